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
        terms_accepted_at -> Nullable<Timestamp>,
        age_confirmed_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_links (link_hash) {
        link_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        new_email -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
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
        description -> Text,
        categories -> Text,
        search -> Text,
        price_min -> BigInt,
        price_max -> BigInt,
        rating_sum -> BigInt,
        rating_count -> BigInt,
        rating_x100 -> BigInt,
        completed_count -> BigInt,
        event_seq -> BigInt,
        delivered_seq -> BigInt,
        last_seen_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        on_time_count -> BigInt,
        missed_deadline_count -> BigInt,
        decline_count -> BigInt,
        flag_count -> BigInt,
        score_x1000 -> BigInt,
        suspended_reason -> Nullable<Text>,
        suspended_at -> Nullable<Timestamp>,
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
        task_id -> Nullable<Text>,
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
        detail -> Nullable<Text>,
        agent_id -> Nullable<Text>,
        thread_id -> Nullable<Text>,
        title -> Nullable<Text>,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_email_off (user_id, kind) {
        user_id -> Text,
        kind -> Text,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (key_hash) {
        key_hash -> Text,
        agent_id -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bootstrap_tokens (token_hash) {
        token_hash -> Text,
        agent_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    approvals (code_hash) {
        code_hash -> Text,
        agent_id -> Text,
        owner_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    emails (id) {
        id -> Text,
        to_email -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sealed_body -> Nullable<Binary>,
        html_body -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        dead_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    agents,
    orders,
    accounts,
    transfers,
    events,
    notifications,
    notification_email_off,
    sessions,
    api_keys,
    bootstrap_tokens,
    approvals,
    emails
);

diesel::table! {
    deliveries (id) {
        id -> Text,
        order_id -> Text,
        seq -> Integer,
        body -> Nullable<Text>,
        urls -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    files (id) {
        id -> Text,
        order_id -> Text,
        delivery_id -> Nullable<Text>,
        name -> Text,
        content_type -> Text,
        bytes -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (principal, idem_key) {
        principal -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(orders, deliveries, files);

diesel::joinable!(files -> deliveries (delivery_id));

diesel::table! {
    threads (id) {
        id -> Text,
        agent_id -> Text,
        customer_id -> Text,
        owner_id -> Text,
        order_id -> Nullable<Text>,
        human_requested -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        thread_id -> Text,
        author_kind -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    offers (id) {
        id -> Text,
        thread_id -> Text,
        agent_id -> Text,
        gig_id -> Text,
        tier -> Text,
        price -> BigInt,
        deadline -> Timestamp,
        scope -> Text,
        inputs -> Text,
        expires_at -> Timestamp,
        accepted_order_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(threads, messages, offers);

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> Timestamp,
        attempts -> BigInt,
    }
}

diesel::table! {
    market_agents (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        capabilities -> Text,
        caps_match -> Text,
        price_per_task -> BigInt,
        endpoint_url -> Nullable<Text>,
        system_prompt -> Nullable<Text>,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Binary>,
        owner_email -> Nullable<Text>,
        completed_count -> BigInt,
        failed_count -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    market_keys (key_hash) {
        key_hash -> Text,
        agent_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        kind -> Text,
        poster_id -> Text,
        title -> Text,
        description -> Text,
        budget -> BigInt,
        required_capabilities -> Text,
        caps_match -> Text,
        status -> Text,
        assigned_to -> Nullable<Text>,
        result -> Nullable<Text>,
        failure -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        assigned_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_fanouts (id) {
        id -> Text,
        task_id -> Text,
        created_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        fanout_id -> Nullable<Text>,
        agent_id -> Text,
        task_id -> Text,
        event -> Text,
        url -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(market_agents, market_keys, tasks, webhook_fanouts, webhook_deliveries);

diesel::table! {
    reviews (id) {
        id -> Text,
        order_id -> Text,
        agent_id -> Text,
        customer_id -> Text,
        stars -> Integer,
        body -> Nullable<Text>,
        reply -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        reporter_id -> Text,
        target_kind -> Text,
        target_id -> Text,
        agent_id -> Text,
        reason -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
    }
}

diesel::table! {
    suspensions (id) {
        id -> Text,
        agent_id -> Text,
        reason -> Text,
        suspended_by -> Text,
        suspended_at -> Timestamp,
        reinstated_by -> Nullable<Text>,
        reinstated_at -> Nullable<Timestamp>,
        reinstate_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reinstatement_requests (id) {
        id -> Text,
        agent_id -> Text,
        owner_id -> Text,
        message -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Text,
        action -> Text,
        target_kind -> Text,
        target_id -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(reviews, reports, suspensions, reinstatement_requests, audit_log, agents);
diesel::allow_tables_to_appear_in_same_query!(reviews, orders);
diesel::allow_tables_to_appear_in_same_query!(reviews, users);

diesel::table! {
    bootstrap_links (link_hash) {
        link_hash -> Text,
        agent_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> Text,
        email -> Text,
        display_name -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::table! {
    auth_pending (state_hash) {
        state_hash -> Text,
        provider -> Text,
        pkce_verifier -> Text,
        nonce -> Text,
        link_user_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}
