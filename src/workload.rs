//! The deterministic synthetic workload of `rolemap bench` and the
//! criterion benches.
//!
//! Mapping `i` grants `role-<i>` for
//! `all[groups = team-<i>, realm.name = jwt1, except username = blocked-<i>]`,
//! with variations drawn from a hash of `i`: 10% test a username wildcard
//! `*@dept<i>.example.com` instead of the group, 5% add a metadata test (an
//! integer or a boolean), 10% list two group values, 10% put the `except` on
//! `groups = contractors`. One mapping in a thousand (at least two) has no
//! selective anchor: only an `except`, or `{"all": []}`, so the path that
//! verifies a mapping for every user is exercised.
//!
//! There are 16 users, each with 20 groups of which 5 are tested by some
//! mapping, a username that matches one wildcard mapping, realm `jwt1`, five
//! metadata keys and a DN.

use crate::User;
use serde_json::{Map, Value, json};

/// The number of users.
pub const USERS: usize = 16;

/// What anchors mapping `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    Group,
    TwoGroups,
    Wildcard,
    /// No selective anchor.
    None,
}

/// A 64-bit mix of `i` and a salt (splitmix64), so the workload needs no
/// random number generator and is the same on every machine.
fn hash(i: usize, salt: u64) -> u64 {
    let mut z = (i as u64) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn anchor(i: usize, n: usize) -> Anchor {
    // Four mappings without a selective anchor, spread over the set.
    if n >= 8 && i % (n / 4) == n / 8 {
        return Anchor::None;
    }
    match hash(i, 1) % 100 {
        0..10 => Anchor::Wildcard,
        10..20 => Anchor::TwoGroups,
        _ => Anchor::Group,
    }
}

/// The mapping document (`GET _security/role_mapping` shape) of `n` mappings.
pub fn mappings(n: usize) -> String {
    let mut doc = Map::new();
    for i in 0..n {
        let mut all = Vec::new();
        let kind = anchor(i, n);
        match kind {
            Anchor::Group => all.push(json!({"field": {"groups": format!("team-{i}")}})),
            Anchor::TwoGroups => all.push(json!({"field": {"groups": [format!("team-{i}"), format!("team-{i}-b")]}})),
            Anchor::Wildcard => all.push(json!({"field": {"username": format!("*@dept{i}.example.com")}})),
            Anchor::None => {}
        }
        let rules = if kind == Anchor::None && i % 2 == 0 {
            json!({"all": []})
        } else {
            if kind != Anchor::None {
                all.push(json!({"field": {"realm.name": "jwt1"}}));
            }
            match hash(i, 2) % 100 {
                0..3 => all.push(json!({"field": {"metadata.level": (i % 5) as i64}})),
                3..5 => all.push(json!({"field": {"metadata.active": true}})),
                _ => {}
            }
            let except = if hash(i, 3) % 100 < 10 {
                json!({"field": {"groups": "contractors"}})
            } else {
                json!({"field": {"username": format!("blocked-{i}")}})
            };
            all.push(json!({"except": except}));
            json!({"all": all})
        };
        doc.insert(format!("mapping-{i}"), json!({"enabled": true, "roles": [format!("role-{i}")], "rules": rules}));
    }
    Value::Object(doc).to_string()
}

/// The users for a workload of `n` mappings.
pub fn users(n: usize) -> Vec<User> {
    let group_mappings: Vec<usize> =
        (0..n).filter(|&i| matches!(anchor(i, n), Anchor::Group | Anchor::TwoGroups)).collect();
    let wildcard_mappings: Vec<usize> = (0..n).filter(|&i| anchor(i, n) == Anchor::Wildcard).collect();
    (0..USERS)
        .map(|u| {
            let username = match wildcard_mappings.get(hash(u, 4) as usize % wildcard_mappings.len().max(1)) {
                Some(w) => format!("user{u}@dept{w}.example.com"),
                None => format!("user{u}@example.com"),
            };
            let mut user = User::new(username, "jwt1");
            user.dn = Some(format!("cn=user{u},ou=people,dc=example,dc=com"));
            let mut groups: Vec<String> = (0..5)
                .filter_map(|k| group_mappings.get(hash(u * 5 + k, 5) as usize % group_mappings.len().max(1)))
                .map(|i| format!("team-{i}"))
                .collect();
            groups.extend((groups.len()..20).map(|k| format!("other-{u}-{k}")));
            user.groups = groups;
            user.metadata.insert("level".into(), json!(u % 5));
            user.metadata.insert("active".into(), json!(u % 3 != 0));
            user.metadata.insert("department".into(), json!(format!("dept-{}", u % 4)));
            user.metadata.insert("email".into(), json!(format!("user{u}@example.com")));
            user.metadata.insert("tags".into(), json!(["staff", format!("floor-{}", u % 6)]));
            user
        })
        .collect()
}
