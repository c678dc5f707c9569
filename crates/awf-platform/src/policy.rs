//! Policy versions (SPEC D10, policy §8). Version 1 is the text shipped in the binary
//! (`assets/policy/v1`), covering every purpose since version 1; later versions are published
//! (by `POST /v1/dev/policy` in development mode, or by `awf-platform publish-policy` against a
//! stopped platform's store) and kept in the store. The version in force is the highest.
//!
//! A publication is validated completely before anything is stored ([`validate`]):
//! - `version` is exactly the version in force plus one (else 400 `invalid_input`, `field`
//!   `version`: a client that lost a race reads the policy again and retries with the next);
//! - `zh_cn` and `en` hold more than white space, at most [`MAX_POLICY_TEXT_BYTES`] of UTF-8;
//! - `purposes` names each purpose at most once, never `service_information` (it needs no
//!   consent), with `since_version` from 1 to the new version; a purpose the previous version
//!   covered cannot have its `since_version` lowered (that would let old consents cover a wording
//!   they never saw), and a purpose it did not cover is new, so its `since_version` is the new
//!   version;
//! - `changes` has at most [`MAX_CHANGES`] lines of 1 to [`MAX_CHANGE_CHARS`] characters without
//!   control characters.

use awf_platform_api::{PolicyDocument, PolicyPurposeTerms, PublishPolicy, Purpose};

use crate::error::{ApiError, StoreError};
use crate::store::Store;

/// The largest policy text (each language), in bytes of UTF-8.
pub const MAX_POLICY_TEXT_BYTES: usize = 256 * 1024;
/// The most lines in a version's `changes`.
pub const MAX_CHANGES: usize = 50;
/// The longest line of `changes`, in characters.
pub const MAX_CHANGE_CHARS: usize = 500;

/// Version 1: the shipped text, every purpose (but service information) since version 1.
pub fn first() -> PolicyDocument {
    PolicyDocument {
        version: 1,
        published_at: crate::POLICY_PUBLISHED_AT.to_string(),
        zh_cn: crate::POLICY_ZH_CN.to_string(),
        en: crate::POLICY_EN.to_string(),
        purposes: Purpose::ALL
            .into_iter()
            .filter(|p| *p != Purpose::ServiceInformation)
            .map(|purpose| PolicyPurposeTerms { purpose, since_version: 1 })
            .collect(),
        material: false,
        changes: Vec::new(),
    }
}

/// The version in force: the highest published, else version 1.
pub fn latest(store: &Store) -> Result<PolicyDocument, StoreError> {
    Ok(store.latest_policy()?.unwrap_or_else(first))
}

/// Version `version`, if it exists.
pub fn version(store: &Store, version: u32) -> Result<Option<PolicyDocument>, StoreError> {
    if version == 1 {
        return Ok(Some(first()));
    }
    store.policy(version)
}

/// Checks a publication against the version in force (`previous`); see the module
/// documentation for the rules.
pub fn validate(previous: &PolicyDocument, req: &PublishPolicy) -> Result<(), ApiError> {
    let next = previous.version.saturating_add(1);
    if req.version != next {
        return Err(ApiError::invalid(
            "version",
            format!("Policy version {} is in force: the next version is {next}.", previous.version),
        ));
    }
    for (field, text) in [("zh_cn", &req.zh_cn), ("en", &req.en)] {
        if text.trim().is_empty() {
            return Err(ApiError::invalid(field, "The policy text is empty."));
        }
        if text.len() > MAX_POLICY_TEXT_BYTES {
            return Err(ApiError::invalid(field, "The policy text is at most 256 KiB (of UTF-8)."));
        }
    }
    for (i, terms) in req.purposes.iter().enumerate() {
        let purpose = terms.purpose;
        if purpose == Purpose::ServiceInformation {
            return Err(ApiError::invalid(
                &format!("purposes[{i}].purpose"),
                "Service information needs no consent, so a policy version lists no terms for it.",
            ));
        }
        if req.purposes[..i].iter().any(|t| t.purpose == purpose) {
            return Err(ApiError::invalid(
                &format!("purposes[{i}].purpose"),
                format!("{} is listed twice.", purpose.as_str()),
            ));
        }
        let field = format!("purposes[{i}].since_version");
        if !(1..=req.version).contains(&terms.since_version) {
            return Err(ApiError::invalid(
                &field,
                format!("`since_version` is from 1 to the new version ({}).", req.version),
            ));
        }
        match previous.purposes.iter().find(|t| t.purpose == purpose) {
            Some(old) if terms.since_version < old.since_version => {
                return Err(ApiError::invalid(
                    &field,
                    format!(
                        "The wording of {} took effect in version {}: `since_version` cannot go back to {}.",
                        purpose.as_str(),
                        old.since_version,
                        terms.since_version
                    ),
                ));
            }
            None if terms.since_version != req.version => {
                return Err(ApiError::invalid(
                    &field,
                    format!(
                        "{} is new in this version (version {} does not cover it): its `since_version` is {}.",
                        purpose.as_str(),
                        previous.version,
                        req.version
                    ),
                ));
            }
            _ => {}
        }
    }
    if req.changes.len() > MAX_CHANGES {
        return Err(ApiError::invalid("changes", format!("At most {MAX_CHANGES} lines of changes.")));
    }
    for (i, line) in req.changes.iter().enumerate() {
        if !(1..=MAX_CHANGE_CHARS).contains(&line.chars().count()) || line.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                &format!("changes[{i}]"),
                format!("A line of changes is 1 to {MAX_CHANGE_CHARS} characters, without control characters."),
            ));
        }
    }
    Ok(())
}

/// Validates `req` against the version in force and stores it, published at `published_at`.
pub fn publish(store: &Store, req: &PublishPolicy, published_at: String) -> Result<PolicyDocument, ApiError> {
    let _serial = store.publishing.lock().unwrap_or_else(|e| e.into_inner());
    let previous = latest(store)?;
    validate(&previous, req)?;
    let document = PolicyDocument {
        version: req.version,
        published_at,
        zh_cn: req.zh_cn.clone(),
        en: req.en.clone(),
        purposes: req.purposes.clone(),
        material: req.material,
        changes: req.changes.clone(),
    };
    if !store.insert_policy(&document)? {
        // Only another process could have taken it, and the store is locked to one process.
        return Err(ApiError::invalid("version", format!("Policy version {} was published meanwhile.", req.version)));
    }
    Ok(document)
}

/// Whether the account's latest receipt for `purpose` (granted, and given under
/// `consent_version`) still covers it under the policy in force: the policy must cover the
/// purpose, and the consent must not predate the purpose's current wording. `Err` holds why not.
pub fn covers(policy: &PolicyDocument, purpose: Purpose, consent_version: u32) -> Result<(), String> {
    match policy.purposes.iter().find(|t| t.purpose == purpose) {
        None => Err(format!("Policy version {} in force does not cover {}.", policy.version, purpose.as_str())),
        Some(terms) if consent_version < terms.since_version => Err(format!(
            "The consent for {} was given under policy version {consent_version}, but its wording changed in \
             version {}: ask for consent again and send the new receipt first.",
            purpose.as_str(),
            terms.since_version
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2() -> PublishPolicy {
        let mut purposes = first().purposes;
        for t in &mut purposes {
            if t.purpose == Purpose::UsageAnalytics {
                t.since_version = 2;
            }
        }
        PublishPolicy {
            version: 2,
            zh_cn: "政策".into(),
            en: "Policy".into(),
            purposes,
            material: true,
            changes: vec!["Usage analytics now include feature-level interaction events.".into()],
        }
    }

    fn field(r: Result<(), ApiError>) -> Option<String> {
        r.err().and_then(|e| e.body.field)
    }

    type Mutation = Box<dyn Fn(&mut PublishPolicy)>;

    #[test]
    fn publications_are_validated_field_by_field() {
        let v1 = first();
        assert!(validate(&v1, &v2()).is_ok());
        let research = |v: &mut PublishPolicy| v.purposes.iter().position(|t| t.purpose == Purpose::Research).unwrap();
        let cases: Vec<(&str, Mutation)> = vec![
            ("version", Box::new(|v| v.version = 1)),
            ("version", Box::new(|v| v.version = 3)),
            ("version", Box::new(|v| v.version = 0)),
            ("zh_cn", Box::new(|v| v.zh_cn = " \n".into())),
            ("en", Box::new(|v| v.en.clear())),
            ("en", Box::new(|v| v.en = "x".repeat(MAX_POLICY_TEXT_BYTES + 1))),
            ("zh_cn", Box::new(|v| v.zh_cn = "政".repeat(MAX_POLICY_TEXT_BYTES / 3 + 1))),
            (
                "purposes[9].purpose",
                Box::new(|v| {
                    v.purposes.push(PolicyPurposeTerms { purpose: Purpose::ServiceInformation, since_version: 2 })
                }),
            ),
            (
                "purposes[9].purpose",
                Box::new(|v| v.purposes.push(PolicyPurposeTerms { purpose: Purpose::Marketing, since_version: 2 })),
            ),
            ("purposes[0].since_version", Box::new(|v| v.purposes[0].since_version = 0)),
            ("purposes[0].since_version", Box::new(|v| v.purposes[0].since_version = 3)),
            ("changes", Box::new(|v| v.changes = vec!["x".into(); MAX_CHANGES + 1])),
            ("changes[1]", Box::new(|v| v.changes.push("y".repeat(MAX_CHANGE_CHARS + 1)))),
            ("changes[1]", Box::new(|v| v.changes.push(String::new()))),
            ("changes[1]", Box::new(|v| v.changes.push("a\nb".into()))),
        ];
        for (expected, mutate) in cases {
            let mut v = v2();
            mutate(&mut v);
            assert_eq!(field(validate(&v1, &v)).as_deref(), Some(expected), "{expected}");
        }
        // Within bounds: 50 lines of 500 characters, exactly 256 KiB.
        let mut v = v2();
        v.changes = vec!["y".repeat(MAX_CHANGE_CHARS); MAX_CHANGES];
        v.en = "x".repeat(MAX_POLICY_TEXT_BYTES);
        assert!(validate(&v1, &v).is_ok());
        // A purpose may be dropped; one not covered before is new in this version.
        let mut v = v2();
        let i = research(&mut v);
        v.purposes.remove(i);
        assert!(validate(&v1, &v).is_ok());
        let v2_doc = PolicyDocument {
            version: 2,
            published_at: String::new(),
            zh_cn: v.zh_cn.clone(),
            en: v.en.clone(),
            purposes: v.purposes.clone(),
            material: true,
            changes: vec![],
        };
        let mut v3 = v2();
        v3.version = 3;
        let i = research(&mut v3);
        assert_eq!(field(validate(&v2_doc, &v3)).as_deref(), Some(format!("purposes[{i}].since_version").as_str()));
        v3.purposes[i].since_version = 3;
        assert!(validate(&v2_doc, &v3).is_ok());
        // Lowering a purpose's since_version is refused.
        let mut v3 = v2();
        v3.version = 3;
        let ua = v3.purposes.iter().position(|t| t.purpose == Purpose::UsageAnalytics).unwrap();
        v3.purposes[ua].since_version = 1;
        assert_eq!(field(validate(&v2_doc, &v3)).as_deref(), Some(format!("purposes[{ua}].since_version").as_str()));
    }

    #[test]
    fn consents_cover_a_purpose_only_from_its_wording_on() {
        let v1 = first();
        assert!(covers(&v1, Purpose::UsageAnalytics, 1).is_ok());
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.purposes.iter_mut().find(|t| t.purpose == Purpose::UsageAnalytics).unwrap().since_version = 2;
        v2.purposes.retain(|t| t.purpose != Purpose::Research);
        assert!(covers(&v2, Purpose::UsageAnalytics, 1).is_err());
        assert!(covers(&v2, Purpose::UsageAnalytics, 2).is_ok());
        assert!(covers(&v2, Purpose::CrashReports, 1).is_ok());
        assert!(covers(&v2, Purpose::Research, 2).is_err(), "not covered at all");
    }
}
