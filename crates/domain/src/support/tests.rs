#![allow(clippy::unwrap_used)]

use super::*;
use crate::ids::{AgentId, OrderId, UserId};
use crate::notice::{Detail, NotificationKind};
use crate::order::Command;
use crate::{MultiLine, Points, Timestamp};

fn now() -> Timestamp {
    Timestamp::default()
}

fn admin() -> UserId {
    UserId::from_unique("adm")
}

fn text(s: &str) -> MultiLine {
    MultiLine::required("reason", s, 100).unwrap()
}

fn standing(suspended: bool, open_request: bool) -> Standing {
    Standing {
        agent: AgentId::from_unique("a"),
        name: "Bot".into(),
        suspended,
        open_request,
    }
}

#[test]
fn suspend_once_with_reason_audit_and_notice() {
    let s = suspend(&standing(false, false), &admin(), &text("fake deliveries"), now()).unwrap();
    assert_eq!(s.reason, "fake deliveries");
    assert_eq!(s.audit.action, AuditAction::SuspendAgent);
    assert_eq!(s.audit.target_kind, TargetKind::Agent);
    assert_eq!(s.audit.target_id, "agt_a");
    assert_eq!(s.audit.actor, admin());
    assert_eq!(s.audit.reason.as_deref(), Some("fake deliveries"));
    assert_eq!(s.notice.kind, NotificationKind::AgentSuspended);
    assert_eq!(
        s.notice.detail,
        Detail::Note {
            text: "fake deliveries".into()
        }
    );
    assert_eq!(
        suspend(&standing(true, false), &admin(), &text("x"), now()),
        Err(SupportError::AlreadySuspended)
    );
}

#[test]
fn reinstate_only_a_suspended_agent() {
    let r = reinstate(&standing(true, true), &admin(), None, now()).unwrap();
    assert_eq!(r.audit.action, AuditAction::ReinstateAgent);
    assert_eq!(r.audit.reason, None);
    let r = reinstate(&standing(true, false), &admin(), Some(&text("appeal ok")), now()).unwrap();
    assert_eq!(r.notice.kind, NotificationKind::AgentReinstated);
    assert_eq!(
        r.notice.detail,
        Detail::Note {
            text: "appeal ok".into()
        }
    );
    assert_eq!(
        reinstate(&standing(false, false), &admin(), None, now()),
        Err(SupportError::NotSuspended)
    );
}

#[test]
fn one_open_reinstatement_request_while_suspended() {
    let owner = UserId::from_unique("o");
    let r = request_reinstatement(&standing(true, false), &owner, &text("fixed it"), now()).unwrap();
    assert_eq!((r.owner, r.message.as_str()), (owner.clone(), "fixed it"));
    assert_eq!(
        request_reinstatement(&standing(false, false), &owner, &text("x"), now()),
        Err(SupportError::NotSuspended)
    );
    assert_eq!(
        request_reinstatement(&standing(true, true), &owner, &text("x"), now()),
        Err(SupportError::RequestOpen)
    );
    let done = resolve_request("rrq_1", false, &admin(), Some(&text("not yet")), now()).unwrap();
    assert_eq!(done.audit.action, AuditAction::ResolveReinstatementRequest);
    assert_eq!(done.audit.target_id, "rrq_1");
    assert_eq!(done.notice.kind, NotificationKind::ReinstatementDeclined);
    assert_eq!(done.notice.detail, Detail::Note { text: "not yet".into() });
    assert_eq!(
        resolve_request("rrq_1", true, &admin(), None, now()),
        Err(SupportError::AlreadyResolved)
    );
}

#[test]
fn reports_once_per_reporter_and_target_and_resolve_once() {
    let target = Reported {
        target: ReportTarget::Review,
        id: "rev_1".into(),
        agent: AgentId::from_unique("a"),
    };
    let me = UserId::from_unique("u");
    let r = report(&me, target.clone(), false, &text("sock puppet"), now()).unwrap();
    assert_eq!((r.target, r.reason.as_str()), (target.clone(), "sock puppet"));
    assert_eq!(
        report(&me, target, true, &text("again"), now()),
        Err(SupportError::AlreadyReported)
    );
    let a = resolve_report("rpt_1", false, &admin(), None, now()).unwrap();
    assert_eq!(
        (a.action, a.target_kind),
        (AuditAction::ResolveReport, TargetKind::Report)
    );
    assert_eq!(
        resolve_report("rpt_1", true, &admin(), None, now()),
        Err(SupportError::AlreadyResolved)
    );
    assert_eq!(ReportTarget::parse("agent"), Some(ReportTarget::Agent));
    assert_eq!(ReportTarget::parse("user"), None);
}

#[test]
fn support_order_commands_are_audited_with_the_refund() {
    let o = OrderId::from_unique("1");
    let resolve = Command::Resolve { refund: Points(10) };
    let a = order_action(&admin(), &o, &resolve, Some(&text("half done")), now()).unwrap();
    assert_eq!(a.action, AuditAction::ResolveDispute);
    assert_eq!(a.reason.as_deref(), Some("refund 10: half done"));
    let a = order_action(&admin(), &o, &resolve, None, now()).unwrap();
    assert_eq!(a.reason.as_deref(), Some("refund 10"));
    let a = order_action(&admin(), &o, &Command::RefundFlagged, None, now()).unwrap();
    assert_eq!((a.action, a.reason), (AuditAction::RefundFlagged, None));
    assert_eq!(order_action(&admin(), &o, &Command::Accept, None, now()), None);
}

#[test]
fn names_round_trip() {
    for a in AuditAction::ALL {
        assert_eq!(AuditAction::parse(a.as_str()), Some(a));
    }
    for k in TargetKind::ALL {
        assert_eq!(TargetKind::parse(k.as_str()), Some(k));
    }
}
