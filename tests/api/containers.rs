//! The container files, checked with what runs here (no Docker engine):
//! the compose file's services, ports and variables against the settings
//! the binary reads, and the Dockerfile's user and health check.

use std::collections::HashMap;

use yaml_rust2::{Yaml, YamlLoader};

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn compose() -> Yaml {
    YamlLoader::load_from_str(&read("docker-compose.yml"))
        .expect("docker-compose.yml is YAML")
        .remove(0)
}

fn strings(list: &Yaml) -> Vec<String> {
    list.as_vec()
        .into_iter()
        .flatten()
        .filter_map(|y| y.as_str().map(str::to_owned))
        .collect()
}

/// The `environment` of a service as a map (compose allows a map only
/// here, which this file uses).
fn environment(service: &Yaml) -> HashMap<String, String> {
    service["environment"]
        .as_hash()
        .expect("environment is a map")
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Boolean(b) => b.to_string(),
                other => panic!("unexpected value {other:?}"),
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect()
}

#[test]
fn compose_starts_mongodb_7_as_a_replica_set_and_switchboard_after_it() {
    let doc = compose();
    let services = doc["services"].as_hash().unwrap();
    let names: Vec<&str> = services.keys().filter_map(Yaml::as_str).collect();
    assert_eq!(names, ["mongo", "switchboard"]);

    let mongo = &doc["services"]["mongo"];
    assert_eq!(mongo["image"].as_str(), Some("mongo:7"));
    let command = strings(&mongo["command"]);
    assert!(
        command.windows(2).any(|w| w == ["--replSet", "rs0"]),
        "{command:?}"
    );
    let check = strings(&mongo["healthcheck"]["test"]).join(" ");
    assert!(check.contains("rs.initiate"), "{check}");

    let switchboard = &doc["services"]["switchboard"];
    assert_eq!(
        switchboard["depends_on"]["mongo"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(strings(&switchboard["ports"]), ["3000:3000"]);
}

#[test]
fn every_variable_compose_sets_is_one_switchboard_reads_and_they_load() {
    let doc = compose();
    let env = environment(&doc["services"]["switchboard"]);
    let known = switchboard::config::known_variables();
    for name in env.keys() {
        assert!(
            known.contains(name),
            "{name} is not read by switchboard: {known:?}"
        );
    }
    for required in ["MONGO_URL", "ADMIN_USERNAME", "ADMIN_PASS", "ADMIN_EMAIL"] {
        assert!(env.contains_key(required), "{required} missing");
    }
    // The values themselves load, and agree with the published port.
    let settings = switchboard::config::Settings::load_from(env.clone()).expect("they load");
    assert_eq!(settings.port, 3000);
    assert!(settings.mongo_url.contains("replicaSet=rs0"));
    assert!(settings.bootstrap_admin().is_some());
    // Compose waits longer than Switchboard's own grace period.
    let grace = doc["services"]["switchboard"]["stop_grace_period"]
        .as_str()
        .and_then(|s| s.strip_suffix('s'))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap();
    assert!(grace > settings.http.shutdown_grace_seconds);
}

#[test]
fn the_image_runs_unprivileged_with_a_healthcheck() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let stages = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert!(stages >= 2, "a multi-stage build");
    // The run stage: everything after the last FROM.
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let run_stage = lines[last_from..].join("\n");
    let user = run_stage
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("the run stage sets a USER");
    let user = user.trim_start_matches("USER ").trim();
    assert!(user != "root" && user != "0", "runs as {user}");
    assert!(
        run_stage.contains("HEALTHCHECK")
            && dockerfile.contains("\"switchboard\", \"healthcheck\""),
        "{run_stage}"
    );
    assert!(run_stage.contains("EXPOSE 3000") && run_stage.contains("PORT=3000"));
}

#[test]
fn the_readme_documents_every_variable() {
    let readme = read("README.md");
    let operations = readme
        .split("## Operations")
        .nth(1)
        .expect("the README has an Operations section");
    for variable in switchboard::config::known_variables() {
        assert!(
            operations.contains(&format!("`{variable}`")),
            "{variable} is missing from the README's configuration table"
        );
    }
}
