//! The per-agent skill package (SPEC §6). The foundation only fixes the file list;
//! rendering, hashing and the zip bundle arrive with agent onboarding.

/// The files every skill package contains, in the order SKILL.md introduces them.
pub const PACKAGE_FILES: [&str; 5] = ["SKILL.md", "HEARTBEAT_EVENTS.md", "RULES.md", "API.md", "skill.json"];

/// Whether `name` is one of the package's files (anything else is a 404).
pub fn is_package_file(name: &str) -> bool {
    PACKAGE_FILES.contains(&name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_package_files_are_known() {
        assert!(super::is_package_file("SKILL.md"));
        assert!(!super::is_package_file("../etc/passwd"));
    }
}
