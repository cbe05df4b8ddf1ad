use super::execute::{self, Outcome, RawExecution, Runner, Target};
use super::task::{self, RawTask};
use super::*;
use crate::ledger::{AccountRef, TransferKind};
use crate::{AgentId, Points, TaskId, Timestamp};
use chrono::{Duration, TimeZone, Utc};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 13, 12, 0, 0).unwrap()
}

fn worker(id: &str) -> Worker {
    Worker {
        id: AgentId::parse(id).unwrap(),
        suspended: false,
    }
}

fn posted(budget: i64) -> Task {
    let raw = RawTask {
        title: Some("Summarize this research paper".into()),
        description: Some("Full text…".into()),
        budget: Some(budget),
        required_capabilities: vec!["Research".into(), "summarization".into(), "research".into()],
    };
    task::post(
        TaskId::parse("tsk_1").unwrap(),
        &worker("agt_poster"),
        raw,
        &MarketPolicy::default(),
        t0(),
    )
    .unwrap()
    .task
}

#[test]
fn posting_holds_the_budget_and_normalises_capabilities() {
    let raw = RawTask {
        title: Some("t".into()),
        budget: Some(25),
        ..RawTask::default()
    };
    let d = task::post(
        TaskId::parse("tsk_1").unwrap(),
        &worker("agt_p"),
        raw,
        &MarketPolicy::default(),
        t0(),
    )
    .unwrap();
    assert_eq!(d.task.status, TaskStatus::Open);
    assert_eq!(d.task.expires_at, t0() + Duration::days(7));
    assert_eq!(d.transfers.len(), 1);
    assert_eq!(
        d.transfers[0].debit,
        AccountRef::AgentWallet(AgentId::parse("agt_p").unwrap())
    );
    assert_eq!(
        d.transfers[0].credit,
        AccountRef::TaskEscrow(TaskId::parse("tsk_1").unwrap())
    );
    assert_eq!(d.transfers[0].amount, Points(25));
    assert_eq!(
        posted(25).required_capabilities.to_strings(),
        vec!["research", "summarization"]
    );
}

#[test]
fn bad_posts_name_their_field() {
    let cases: Vec<(RawTask, &str)> = vec![
        (
            RawTask {
                title: Some("t".into()),
                budget: Some(0),
                ..Default::default()
            },
            "budget",
        ),
        (
            RawTask {
                title: Some("t".into()),
                budget: Some(-5),
                ..Default::default()
            },
            "budget",
        ),
        (
            RawTask {
                title: Some("t".into()),
                budget: None,
                ..Default::default()
            },
            "budget",
        ),
        (
            RawTask {
                title: None,
                budget: Some(5),
                ..Default::default()
            },
            "title",
        ),
        (
            RawTask {
                title: Some("a\u{0}b".into()),
                budget: Some(5),
                ..Default::default()
            },
            "title",
        ),
        (
            RawTask {
                title: Some("t".into()),
                budget: Some(5),
                required_capabilities: vec!["x".into(); 21],
                ..Default::default()
            },
            "required_capabilities",
        ),
        (
            RawTask {
                title: Some("t".into()),
                budget: Some(5),
                required_capabilities: vec!["a/b".into()],
                ..Default::default()
            },
            "required_capabilities[0]",
        ),
    ];
    for (raw, field) in cases {
        match task::post(
            TaskId::parse("tsk_1").unwrap(),
            &worker("agt_p"),
            raw,
            &MarketPolicy::default(),
            t0(),
        ) {
            Err(MarketError::Invalid(i)) => assert_eq!(i.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn accept_assigns_one_agent_but_never_the_poster() {
    let p = MarketPolicy::default();
    let t = posted(25);
    assert_eq!(
        task::accept(&t, &worker("agt_poster"), &p, t0()),
        Err(MarketError::OwnTask)
    );
    let d = task::accept(&t, &worker("agt_w"), &p, t0()).unwrap();
    assert_eq!(d.task.status, TaskStatus::Assigned);
    assert_eq!(d.task.assigned_to, Some(AgentId::parse("agt_w").unwrap()));
    assert!(d.transfers.is_empty());
    assert!(matches!(
        task::accept(&d.task, &worker("agt_x"), &p, t0()),
        Err(MarketError::TaskState {
            status: TaskStatus::Assigned,
            ..
        })
    ));
    let mut suspended = worker("agt_s");
    suspended.suspended = true;
    assert_eq!(task::accept(&t, &suspended, &p, t0()), Err(MarketError::Suspended));
}

#[test]
fn completion_pays_the_worker_rounded_down_and_the_platform_the_rest() {
    let p = MarketPolicy::default();
    let assigned = task::accept(&posted(25), &worker("agt_w"), &p, t0()).unwrap().task;
    assert_eq!(
        task::complete(&assigned, &worker("agt_x"), "r", &p, t0()),
        Err(MarketError::NotAssignee)
    );
    let d = task::complete(&assigned, &worker("agt_w"), "Here is the summary", &p, t0()).unwrap();
    assert_eq!(d.task.status, TaskStatus::Completed);
    let paid: Vec<(AccountRef, i64, TransferKind)> = d
        .transfers
        .iter()
        .map(|t| (t.credit.clone(), t.amount.get(), t.kind))
        .collect();
    assert_eq!(
        paid,
        vec![
            (
                AccountRef::AgentWallet(AgentId::parse("agt_w").unwrap()),
                22,
                TransferKind::Payout
            ),
            (AccountRef::PlatformFees, 3, TransferKind::Fee),
        ]
    );
    assert!(matches!(
        task::complete(&d.task, &worker("agt_w"), "again", &p, t0()),
        Err(MarketError::TaskState {
            status: TaskStatus::Completed,
            ..
        })
    ));
    assert!(matches!(
        task::complete(&assigned, &worker("agt_w"), "  ", &p, t0()),
        Err(MarketError::Invalid(_))
    ));
}

#[test]
fn only_the_poster_cancels_and_only_while_open() {
    let p = MarketPolicy::default();
    let t = posted(25);
    assert_eq!(task::cancel(&t, &worker("agt_w"), t0()), Err(MarketError::NotPoster));
    let d = task::cancel(&t, &worker("agt_poster"), t0()).unwrap();
    assert_eq!(d.task.status, TaskStatus::Cancelled);
    assert_eq!(d.transfers[0].kind, TransferKind::Refund);
    assert_eq!(d.transfers[0].amount, Points(25));
    let assigned = task::accept(&t, &worker("agt_w"), &p, t0()).unwrap().task;
    assert!(matches!(
        task::cancel(&assigned, &worker("agt_poster"), t0()),
        Err(MarketError::TaskState { .. })
    ));
}

#[test]
fn open_and_assigned_tasks_expire_and_return_the_budget() {
    let p = MarketPolicy::default();
    let t = posted(25);
    assert_eq!(task::expire(&t, t0() + Duration::days(6)).unwrap(), None);
    let late = t0() + Duration::days(7);
    let d = task::expire(&t, late).unwrap().unwrap();
    assert_eq!(d.task.status, TaskStatus::Expired);
    assert_eq!(d.transfers[0].kind, TransferKind::Refund);
    // A step on an expired task sees it expired.
    assert!(matches!(
        task::accept(&t, &worker("agt_w"), &p, late),
        Err(MarketError::TaskState {
            status: TaskStatus::Expired,
            ..
        })
    ));
    let assigned = task::accept(&t, &worker("agt_w"), &p, t0() + Duration::days(1))
        .unwrap()
        .task;
    assert!(task::expire(&assigned, late).unwrap().is_none());
    assert!(task::expire(&assigned, t0() + Duration::days(8)).unwrap().is_some());
}

fn target() -> Target {
    Target {
        id: AgentId::parse("agt_t").unwrap(),
        price_per_task: Points(15),
        endpoint_url: Some("https://bot.example/execute".into()),
        has_system_prompt: false,
        suspended: false,
    }
}

fn exec(budget: i64) -> RawExecution {
    RawExecution {
        task_description: Some("Write a haiku".into()),
        budget: Some(budget),
    }
}

#[test]
fn execution_holds_then_pays_or_refunds() {
    let p = MarketPolicy::default();
    let id = || TaskId::parse("tsk_e").unwrap();
    let (d, runner) = execute::hold(id(), &worker("agt_c"), &target(), exec(15), false, &p, t0()).unwrap();
    assert_eq!(runner, Runner::Endpoint("https://bot.example/execute".into()));
    assert_eq!(d.task.status, TaskStatus::Running);
    assert_eq!(d.transfers[0].amount, Points(15));
    let paid = execute::settle(&d.task, Outcome::Result("Packets flow".into()), &p, t0()).unwrap();
    assert_eq!(paid.task.status, TaskStatus::Completed);
    assert_eq!(
        paid.transfers.iter().map(|t| t.amount.get()).collect::<Vec<_>>(),
        vec![13, 2]
    );
    let failed = execute::settle(&d.task, Outcome::Failed("timed out".into()), &p, t0()).unwrap();
    assert_eq!(failed.task.status, TaskStatus::Failed);
    assert_eq!(failed.task.failure.as_deref(), Some("timed out"));
    assert_eq!(failed.transfers[0].kind, TransferKind::Refund);
    let empty = execute::settle(&d.task, Outcome::Result(" ".into()), &p, t0()).unwrap();
    assert_eq!(empty.task.status, TaskStatus::Failed);
    assert!(execute::settle(&paid.task, Outcome::Result("x".into()), &p, t0()).is_err());
}

#[test]
fn execution_refusals_charge_nothing() {
    let p = MarketPolicy::default();
    let id = || TaskId::parse("tsk_e").unwrap();
    let hold = |from: &str, t: &Target, budget: i64, llm: bool| {
        execute::hold(id(), &worker(from), t, exec(budget), llm, &p, t0()).map(|_| ())
    };
    assert_eq!(hold("agt_t", &target(), 15, false), Err(MarketError::SelfExecution));
    assert!(matches!(hold("agt_c", &target(), 14, false), Err(MarketError::Invalid(i)) if i.field == "budget"));
    let prompt_only = Target {
        endpoint_url: None,
        has_system_prompt: true,
        ..target()
    };
    assert_eq!(hold("agt_c", &prompt_only, 15, false), Err(MarketError::NoLlm));
    assert_eq!(hold("agt_c", &prompt_only, 15, true), Ok(()));
    let nothing = Target {
        endpoint_url: None,
        ..target()
    };
    assert_eq!(hold("agt_c", &nothing, 15, true), Err(MarketError::NotExecutable));
}

#[test]
fn an_abandoned_hold_is_refunded_after_its_limit() {
    let p = MarketPolicy::default();
    let (d, _) = execute::hold(
        TaskId::parse("tsk_e").unwrap(),
        &worker("agt_c"),
        &target(),
        exec(20),
        false,
        &p,
        t0(),
    )
    .unwrap();
    let limit = Duration::seconds(60);
    assert_eq!(
        execute::abandoned(&d.task, limit, &p, t0() + Duration::seconds(59)).unwrap(),
        None
    );
    let r = execute::abandoned(&d.task, limit, &p, t0() + Duration::seconds(60))
        .unwrap()
        .unwrap();
    assert_eq!(r.task.status, TaskStatus::Failed);
    assert_eq!(r.transfers[0].amount, Points(20));
}

#[test]
fn registration_checks_fields_and_grants_starter_credits() {
    let raw = RawRegistration {
        name: Some("ResearchBot".into()),
        capabilities: Some(vec!["research".into()]),
        webhook_url: Some("http://bot.example/hook".into()),
        ..Default::default()
    };
    assert!(matches!(raw.clone().validate(false), Err(MarketError::Invalid(i)) if i.field == "webhook_url"));
    let ok = raw.validate(true).unwrap();
    assert_eq!(ok.price_per_task, Points(0));
    let missing = RawRegistration {
        name: Some("x".into()),
        ..Default::default()
    };
    assert!(matches!(missing.validate(false), Err(MarketError::Invalid(i)) if i.field == "capabilities"));
    let grant = profile::starter_credits(&AgentId::parse("agt_a").unwrap(), &MarketPolicy::default()).unwrap();
    assert_eq!(grant[0].amount, Points(100));
    assert_eq!(grant[0].debit, AccountRef::Mint);
}
