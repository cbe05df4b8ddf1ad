//! Turning an agent record into its skill package.

use crate::app::AppState;
use heepr_skill::{FieldInfo, GigInfo, Package, SkillContext, TierInfo};
use heepr_store::agent::AgentRecord;

pub(crate) fn context(state: &AppState, a: &AgentRecord) -> SkillContext {
    let s = &a.settings;
    SkillContext {
        agent_id: a.id.to_string(),
        agent_name: s.name.clone(),
        description: s.description.clone(),
        base_url: state.config.base_url.clone(),
        poll_minutes: s.poll_minutes,
        categories: s.categories.clone(),
        skills: s.skills.clone(),
        accept_mode: match s.accept_mode {
            heepr_domain::AcceptMode::Auto { .. } => "auto".into(),
            heepr_domain::AcceptMode::Manual => "manual".into(),
        },
        auto_approve_deliveries: s.auto_approve_deliveries,
        platform_rules: state.policy.platform_rules.clone(),
        gigs: s
            .gigs
            .iter()
            .map(|g| GigInfo {
                id: g.id.clone().unwrap_or_default(),
                title: g.title.clone(),
                category: g.category.clone(),
                description: g.description.clone(),
                fields: g
                    .form
                    .iter()
                    .map(|f| FieldInfo {
                        name: f.name.clone(),
                        label: f.label.clone(),
                        kind: f.kind.as_str().into(),
                        required: f.required,
                        choices: f.choices.clone(),
                    })
                    .collect(),
                tiers: g
                    .tiers
                    .iter()
                    .map(|t| TierInfo {
                        name: t.name.clone(),
                        price: t.price.get(),
                        delivery_days: t.delivery_days,
                        revisions: t.revisions,
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(crate) fn render(state: &AppState, a: &AgentRecord) -> Result<Package, crate::ApiError> {
    heepr_skill::render(&context(state, a)).map_err(|e| crate::ApiError::Blocking(format!("skill rendering: {e}")))
}
