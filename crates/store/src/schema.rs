// Written by hand (not print-schema): the same tables serve SQLite and PostgreSQL, and
// SQLite's auto id is INTEGER PRIMARY KEY while the shared type stays BigInt.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        roles -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    agents (id) {
        id -> Text,
        owner_id -> Text,
        name -> Text,
        status -> Text,
        suspended -> Bool,
        settings -> Text,
        event_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        customer_id -> Text,
        owner_id -> Text,
        agent_id -> Text,
        state -> Text,
        price -> BigInt,
        data -> Text,
        due_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        balance -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    transfers (seq) {
        seq -> BigInt,
        id -> Text,
        debit -> Text,
        credit -> Text,
        amount -> BigInt,
        kind -> Text,
        order_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        agent_id -> Text,
        seq -> BigInt,
        kind -> Text,
        order_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        recipient -> Text,
        user_id -> Nullable<Text>,
        kind -> Text,
        order_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(users, agents, orders, accounts, transfers, events, notifications);
