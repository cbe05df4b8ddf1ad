//! Who may see and touch what (SPEC §13: another party gets 404 for things it must not
//! know exist). The store scopes every read and command by a [`Viewer`]; the rules live
//! here so they can be tested without a database.

use crate::ids::{AgentId, UserId};
use crate::order::{Actor, Order, OrderState};

/// Who is asking, resolved by the edge from a session or an agent key. Owned, so it
/// can cross into blocking tasks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// A signed-in user acting as a customer.
    Customer(UserId),
    /// A signed-in user acting as the owner of agents.
    Owner(UserId),
    /// An agent, through its API key.
    Agent(AgentId),
    /// Support.
    Admin,
}

impl Viewer {
    /// The domain actor this viewer issues commands as (once [`Viewer::may_see`]
    /// established that the order is theirs).
    pub fn actor(&self) -> Actor {
        match self {
            Self::Customer(_) => Actor::Customer,
            Self::Owner(_) => Actor::Owner,
            Self::Agent(_) => Actor::Agent,
            Self::Admin => Actor::Admin,
        }
    }

    /// Whether the order is this viewer's at all; otherwise it must look absent.
    pub fn may_see(&self, o: &Order) -> bool {
        match self {
            Self::Customer(u) => o.customer == *u,
            Self::Owner(u) => o.owner == *u,
            Self::Agent(a) => o.agent == *a,
            Self::Admin => true,
        }
    }

    /// How many deliveries (by sequence number, from 1) this viewer may see: the
    /// customer only those released to them, everyone else all (`u32::MAX`).
    pub fn visible_deliveries(&self, o: &Order) -> u32 {
        match self {
            Self::Customer(_) => o.released,
            _ => u32::MAX,
        }
    }

    /// Whether this viewer may download a file of the order: an order attachment
    /// (`delivery_seq = None`) for anyone who may see the order; a file of delivery
    /// `delivery_seq` for the customer only once that delivery is released. Support
    /// downloads only the files of orders in its queue — disputed or flagged (SPEC §9:
    /// delivery files are nobody else's business, §15: support sees a dispute's).
    pub fn may_download(&self, o: &Order, delivery_seq: Option<u32>) -> bool {
        if *self == Self::Admin && !matches!(o.state, OrderState::Disputed | OrderState::Flagged) {
            return false;
        }
        self.may_see(o) && delivery_seq.is_none_or(|seq| seq <= self.visible_deliveries(o))
    }

    /// A stable principal name (user id, agent id or `admin`), e.g. to scope
    /// idempotency keys so two callers never share one.
    pub fn key(&self) -> String {
        match self {
            Self::Customer(u) | Self::Owner(u) => u.to_string(),
            Self::Agent(a) => a.to_string(),
            Self::Admin => "admin".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::ids::OrderId;
    use crate::order::WorkSpec;
    use crate::points::{FeeBps, Points};

    fn uid(s: &str) -> UserId {
        UserId::from_unique(s)
    }

    fn order(deliveries: u32, released: u32) -> Order {
        let t = Timestamp::default();
        Order {
            id: OrderId::from_unique("o"),
            customer: uid("c"),
            owner: uid("o"),
            agent: AgentId::from_unique("a"),
            price: Points(10),
            fee_bps: FeeBps::default(),
            state: OrderState::DeliveredPendingOwnerReview,
            work: WorkSpec::default(),
            revisions_included: 0,
            revisions_left: 0,
            revisions: vec![],
            pending_revision: None,
            auto_approve_deliveries: false,
            deadline: None,
            due_at: None,
            flag_remaining_secs: None,
            deliveries,
            released,
            progress: crate::Percent::ZERO,
            created_at: t,
            updated_at: t,
        }
    }

    fn everyone() -> Vec<Viewer> {
        vec![
            Viewer::Customer(uid("c")),
            Viewer::Owner(uid("o")),
            Viewer::Agent(AgentId::from_unique("a")),
            Viewer::Admin,
        ]
    }

    fn strangers() -> Vec<Viewer> {
        vec![
            Viewer::Customer(uid("x")),
            // The order's owner asking as a customer, and its customer as an owner.
            Viewer::Customer(uid("o")),
            Viewer::Owner(uid("c")),
            Viewer::Owner(uid("x")),
            Viewer::Agent(AgentId::from_unique("b")),
        ]
    }

    #[test]
    fn parties_see_their_order_and_nobody_else_does() {
        let o = order(2, 1);
        for v in everyone() {
            assert!(v.may_see(&o), "{v:?}");
            assert_eq!(v.may_download(&o, None), v != Viewer::Admin, "{v:?}");
        }
        for v in strangers() {
            assert!(!v.may_see(&o), "{v:?}");
            assert!(!v.may_download(&o, None), "{v:?}");
            assert!(!v.may_download(&o, Some(1)), "{v:?}");
        }
    }

    #[test]
    fn the_customer_sees_only_released_deliveries() {
        let o = order(3, 2);
        let c = Viewer::Customer(uid("c"));
        assert_eq!(c.visible_deliveries(&o), 2);
        assert!(c.may_download(&o, Some(1)));
        assert!(c.may_download(&o, Some(2)));
        assert!(!c.may_download(&o, Some(3)));
        assert!(!c.may_download(&order(1, 0), Some(1)));
        for v in everyone().into_iter().skip(1) {
            assert_eq!(v.visible_deliveries(&o), u32::MAX, "{v:?}");
            assert_eq!(v.may_download(&o, Some(3)), v != Viewer::Admin, "{v:?}");
        }
    }

    #[test]
    fn support_downloads_only_the_files_of_orders_in_its_queue() {
        for state in OrderState::ALL {
            let o = Order { state, ..order(2, 1) };
            let queued = matches!(state, OrderState::Disputed | OrderState::Flagged);
            assert_eq!(Viewer::Admin.may_download(&o, None), queued, "{state}");
            assert_eq!(Viewer::Admin.may_download(&o, Some(2)), queued, "{state}");
            assert!(Viewer::Owner(uid("o")).may_download(&o, Some(2)), "{state}");
        }
    }

    #[test]
    fn actors_and_keys() {
        let actors: Vec<Actor> = everyone().iter().map(Viewer::actor).collect();
        assert_eq!(actors, [Actor::Customer, Actor::Owner, Actor::Agent, Actor::Admin]);
        let keys: Vec<String> = everyone().iter().map(Viewer::key).collect();
        assert_eq!(keys, ["usr_c", "usr_o", "agt_a", "admin"]);
        // One user is one principal, whichever role they act in.
        assert_eq!(Viewer::Customer(uid("c")).key(), Viewer::Owner(uid("c")).key());
    }
}
