//! `kartoteka names`: compare two names, show a name's parts and matching keys, transliterate.

use anyhow::{Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use names::{CompareOptions, Part, System};
use serde_json::json;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: NamesCommand,
}

#[derive(Subcommand)]
enum NamesCommand {
    /// Compare two names: similarity in [0, 1], the verdict, and the rules that fired.
    Compare {
        a: String,
        b: String,
        /// Which part of a name the two texts are: surname, given, patronymic or full.
        #[arg(long, default_value = "full", value_parser = parse_part)]
        part: Part,
        /// Also count Western translations of given names (Юрий/George, Иван/John).
        #[arg(long)]
        loose: bool,
        #[arg(long)]
        json: bool,
    },
    /// Parse a name and print its parts with their matching keys and phonetic codes.
    Key {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Transliterate a Cyrillic name (every system unless --system), or back-transliterate a Latin one.
    Translit {
        name: String,
        /// iso9, gost-7.79-b, bgn-pcgn, ala-lc, scholarly, icao (passport), german, french, polish, czech,
        /// ukrainian (KMU 2010).
        #[arg(long, value_parser = parse_system)]
        system: Option<System>,
        #[arg(long)]
        json: bool,
    },
}

// Parsed by clap, so that a bad value is a usage error (exit code 2).
fn parse_part(text: &str) -> Result<Part, String> {
    text.parse()
}

fn parse_system(text: &str) -> Result<System, String> {
    text.parse().map_err(|e: names::UnknownSystem| e.to_string())
}

pub fn run(args: &Args) -> Result<()> {
    match &args.command {
        NamesCommand::Compare { a, b, part, loose, json } => compare(a, b, *part, *loose, *json),
        NamesCommand::Key { name, json } => key(name, *json),
        NamesCommand::Translit { name, system, json } => translit(name, *system, *json),
    }
}

fn compare(a: &str, b: &str, part: Part, loose: bool, as_json: bool) -> Result<()> {
    // As `names key` refuses it: a blank name is a mistake on the command line, not a score of 0.
    if let Some(name) = [a, b].into_iter().find(|name| !name.chars().any(char::is_alphabetic)) {
        bail!("name {name:?} has no letters");
    }
    let comparison = names::compare_with(a, b, part, CompareOptions { loose_equivalents: loose });
    if as_json {
        println!("{}", serde_json::to_string(&comparison)?);
    } else {
        println!("score: {:.3}", comparison.score);
        println!("same: {}", comparison.same);
        println!("sex differs: {}", comparison.sex_differs);
        for rule in &comparison.rules {
            println!("rule: {rule}");
        }
    }
    Ok(())
}

fn key(name: &str, as_json: bool) -> Result<()> {
    let parsed = names::parse(name);
    let parts: Vec<(&str, &String)> = [
        ("surname", parsed.surname.as_ref()),
        ("given", parsed.given.as_ref()),
        ("patronymic", parsed.patronymic.as_ref()),
    ]
    .into_iter()
    .filter_map(|(label, text)| text.map(|t| (label, t)))
    .collect();
    if parts.is_empty() && parsed.initials.is_empty() {
        bail!("name {name:?} has no letters");
    }
    let described: Vec<serde_json::Value> = parts
        .iter()
        .map(|(label, text)| {
            json!({
                "part": label,
                "text": text,
                "normalized": names::normalize(text),
                "key": names::key(text),
                "keys": names::keys(text),
                "daitch_mokotoff": names::daitch_mokotoff(text),
                "beider_morse": names::beider_morse(text),
            })
        })
        .collect();
    if as_json {
        let out = json!({
            "script": parsed.script,
            "sex": parsed.sex.map(|s| s.code()),
            "initials": parsed.initials,
            "particles": parsed.particles,
            "parts": described,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for part in &described {
            println!("{}: {}", part["part"].as_str().unwrap_or(""), part["text"].as_str().unwrap_or(""));
            for field in ["key", "keys", "daitch_mokotoff", "beider_morse"] {
                println!("  {field}: {}", part[field]);
            }
        }
        println!("initials: {}", parsed.initials.join(" "));
        if !parsed.particles.is_empty() {
            println!("particles: {}", parsed.particles.join(" "));
        }
        println!("sex: {}", parsed.sex.map_or("unknown", |s| s.code()));
    }
    Ok(())
}

fn translit(name: &str, system: Option<System>, as_json: bool) -> Result<()> {
    let systems: Vec<System> = match system {
        Some(s) => vec![s],
        None => System::ALL.to_vec(),
    };
    let cyrillic = name.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    if !cyrillic {
        let candidates = names::back_translit(name);
        if as_json {
            println!("{}", serde_json::to_string(&json!({ "back_translit": candidates }))?);
        } else {
            for candidate in candidates {
                println!("{candidate}");
            }
        }
        return Ok(());
    }
    let rows: Vec<(String, String)> = systems.iter().map(|&s| (s.name().to_string(), names::translit(name, s))).collect();
    if as_json {
        let map: serde_json::Map<String, serde_json::Value> =
            rows.into_iter().map(|(s, t)| (s, serde_json::Value::String(t))).collect();
        println!("{}", serde_json::to_string(&map)?);
    } else {
        for (system, text) in rows {
            println!("{system}\t{text}");
        }
    }
    Ok(())
}
