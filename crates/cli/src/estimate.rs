//! `kartoteka estimate TABLE.csv`: multiple systems estimation from a `pattern,count` overlap
//! table, every method side by side (or JSON), with the model each chose and why, and warnings.
//! `kartoteka estimate PROJECT` estimates from the built register instead: the lists are the
//! manifest's sources, the persons those linkage made, and the estimate is repeated over the
//! linkages at several match-probability thresholds (and drawn ones, clustered as the build
//! clusters) to show how far linkage uncertainty moves it. `kartoteka build` runs the same when the manifest has `[estimate]`.

use analysis::estimate::linkage::{Linkable, ScoredPair, Spread, estimate_each, spread_of};
use analysis::estimate::{
    self, Estimate, Family, HierarchicalModel, Options, OverlapTable, plot, thousands,
};
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Chapman,
    Loglinear,
    Bhs,
    Sparsemse,
    Lcmcr,
    Dga,
    All,
}

#[derive(clap::Args)]
pub struct Args {
    /// Overlap table: `pattern,count` with one 0/1 character per list (leftmost = list 1); or
    /// a project folder whose register `kartoteka build` has linked.
    table: PathBuf,
    /// Project folder: the match-probability thresholds at which to re-link the records.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.8,0.9,0.95,0.99", value_parser = parse_probability)]
    thresholds: Vec<f64>,
    /// Project folder: also this many linkages drawn from the match probabilities (seeded).
    #[arg(long, default_value_t = 0)]
    linkage_samples: usize,
    /// Estimator family, or all of them.
    #[arg(long, value_enum, default_value = "all")]
    method: MethodArg,
    /// Print a JSON list of {method, estimate, lower, upper, observed, model, warnings}.
    #[arg(long)]
    json: bool,
    /// The two lists Chapman uses, numbered from 1.
    #[arg(long, default_value = "1,2", value_parser = parse_pair)]
    pair: (usize, usize),
    /// Also fit this hierarchical log-linear model (Rcapture notation, e.g. "[123,14,34]").
    #[arg(long)]
    model: Option<String>,
    /// Bootstrap intervals with this many replicates for the log-linear family and BHS.
    #[arg(long, value_parser = parse_replicates)]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap and of the LCMCR chains.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Write an SVG plot of the estimates and intervals here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// Bootstrap replicates: a 95% interval reads the 2.5% and 97.5% quantiles, so each tail needs
/// a replicate (0 used to report "the bootstrap failed on most resampled tables").
fn parse_replicates(text: &str) -> Result<usize, String> {
    const FEWEST: usize = 40;
    match text.trim().parse::<usize>() {
        Ok(n) if n >= FEWEST => Ok(n),
        _ => Err(format!("`{text}` replicates cannot give a 95% interval; give at least {FEWEST}")),
    }
}

/// A match probability, 0 to 1 (as `[estimate] thresholds` in the manifest takes).
fn parse_probability(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("`{text}` is not a probability from 0 to 1"))
}

fn parse_pair(text: &str) -> Result<(usize, usize), String> {
    let numbers: Vec<usize> = text
        .split([',', 'x'])
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    match numbers[..] {
        [a, b] if a >= 1 && b >= 1 && a != b => Ok((a - 1, b - 1)),
        _ => Err(format!(
            "`{text}` is not two different list numbers like 1,2"
        )),
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.table.is_dir() {
        return run_project(args);
    }
    let file = args.table.display();
    let text = std::fs::read_to_string(&args.table)
        .with_context(|| format!("{file}: cannot read the table"))?;
    let table = OverlapTable::parse_csv(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    if let Err(reason) = estimate::table_check(&table) {
        bail!("{file}: no estimate of the total exists for this table: {reason}");
    }
    let options = options(args, table.lists())?;
    let families = families(args.method);
    let rows = estimate::estimate(&table, &families, &options);
    if let Some(path) = &args.svg {
        let title = format!(
            "{}: estimates with 95% intervals",
            args.table
                .file_name()
                .map_or(file.to_string(), |n| n.to_string_lossy().into_owned())
        );
        std::fs::write(path, plot::svg(&title, &rows))
            .with_context(|| format!("{}: cannot write the plot", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render_rows(&file.to_string(), table.lists(), table.observed(), &rows));
    }
    if rows.iter().all(|r| r.estimate.is_none()) {
        let reasons: Vec<String> = rows
            .iter()
            .map(|r| format!("{}: {}", r.method, r.warnings.join("; ")))
            .collect();
        bail!(
            "{file}: no method could give an estimate: {}",
            reasons.join(" | ")
        );
    }
    Ok(())
}

fn options(args: &Args, lists: usize) -> anyhow::Result<Options> {
    let mut options = Options {
        pair: args.pair,
        ..Options::default()
    };
    options.lcmcr.seed = args.seed;
    options.loglinear.bootstrap = args.bootstrap.map(|n| (n, args.seed));
    if let Some(text) = &args.model {
        options.loglinear.model = Some(
            HierarchicalModel::parse(lists, text).map_err(|e| anyhow::anyhow!("--model: {e}"))?,
        );
    }
    Ok(options)
}

fn families(method: MethodArg) -> Vec<Family> {
    match method {
        MethodArg::All => Family::ALL.to_vec(),
        MethodArg::Chapman => vec![Family::Chapman],
        MethodArg::Loglinear => vec![Family::Loglinear],
        MethodArg::Bhs => vec![Family::Bhs],
        MethodArg::Sparsemse => vec![Family::SparseMse],
        MethodArg::Lcmcr => vec![Family::Lcmcr],
        MethodArg::Dga => vec![Family::Dga],
    }
}

/// The register's records as [`Linkable`] over the manifest's sources, the persons the latest
/// linkage run made of them, and the threshold it clustered at.
pub struct Register {
    pub lists: Vec<String>,
    pub records: Linkable,
    pub as_linked: Vec<u32>,
    pub threshold: f64,
    /// Scores the pairs the register does not keep, when it recorded the run's model.
    pub rescorer: Option<Rescorer>,
}

/// The latest run's model over the current records (prepared and blocked, not compared): scores
/// any pair as that run did, for the pairs of a component the register does not keep.
pub struct Rescorer {
    linker: link::Linker,
    /// Per record of the [`Linkable`], its index among the linker's records.
    index: Vec<usize>,
}

impl Rescorer {
    fn new(records: &[model::StandardRecord], spec: &link::LinkSpec, model: link::fs::FsModel, kept: &[&model::RecordId]) -> anyhow::Result<Rescorer> {
        let inputs = link::LinkInputs { model: Some(model), ..link::LinkInputs::first_run(spec, &link::FoldingMatcher) };
        let linker = link::Linker::train(records, &inputs)?;
        let index = kept.iter().map(|id| linker.index_of(id)).collect::<Result<_, _>>()?;
        Ok(Rescorer { linker, index })
    }
}

/// Reads the register; with `rescore`, also prepares the latest run's model over its records
/// (what drawn linkages need, see [`drawn_persons`]).
pub fn read_register(dir: &Path, rescore: bool) -> anyhow::Result<Register> {
    let manifest = ingest::Manifest::load(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let lists: Vec<String> = manifest.sources.iter().map(|s| s.id.as_str().to_owned()).collect();
    if lists.len() > estimate::table::MAX_LISTS {
        bail!(
            "{}: {} sources; estimation takes at most {} lists",
            dir.display(),
            lists.len(),
            estimate::table::MAX_LISTS
        );
    }
    let path = dir.join(store::REGISTER_FILE);
    if !path.exists() {
        bail!("{}: no register yet: run `kartoteka build {}` first", path.display(), dir.display());
    }
    let register = store::Register::open(&path).with_context(|| format!("{}: cannot open the register", path.display()))?;
    let list_index: BTreeMap<&str, usize> = lists.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let persons = register.persons_of_current_records()?;
    if persons.is_empty() {
        bail!("{}: the register has no linked persons: run `kartoteka build {}` first", path.display(), dir.display());
    }
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut records = Linkable::default();
    let mut person_of = Vec::new();
    let current = register.current_link_records()?;
    let mut kept = Vec::new();
    for linked in &current {
        let key = linked.record.id.as_str();
        let (Some(list), Some(person)) = (
            linked.record.source.as_ref().and_then(|s| list_index.get(s.as_str())),
            persons.get(key),
        ) else {
            continue;
        };
        index.insert(key.to_owned(), records.list_of.len());
        kept.push(&linked.record.id);
        records.list_of.push(*list);
        person_of.push(person.clone());
    }
    let pair_of = |l: &str, r: &str| Some((*index.get(l)?, *index.get(r)?));
    records.pairs = register
        .stored_pairs()?
        .iter()
        .filter_map(|p| {
            let (left, right) = pair_of(&p.record_key_l, &p.record_key_r)?;
            Some(ScoredPair { left, right, match_weight: p.match_weight, match_probability: p.match_probability })
        })
        .collect();
    for decision in register.decisions_in_force()? {
        if let Some(pair) = pair_of(&decision.record_key_l, &decision.record_key_r) {
            if decision.must_link { records.must_link.push(pair) } else { records.cannot_link.push(pair) }
        }
    }
    let as_linked = records.histories_of(&person_of);
    // Registers from before the spec was recorded linked at the spec's default threshold.
    let spec = register.latest_link_spec()?;
    let threshold = spec.as_ref().map_or_else(|| link::LinkSpec::default().threshold, |s| s.threshold);
    let rescorer = match (rescore, spec, register.latest_link_model()?) {
        (true, Some(spec), Some(model)) => {
            let all: Vec<model::StandardRecord> = current.iter().map(|l| l.record.clone()).collect();
            Some(Rescorer::new(&all, &spec, model, &kept).with_context(|| format!("{}: cannot score the records again", path.display()))?)
        }
        _ => None,
    };
    Ok(Register { lists, records, as_linked, threshold, rescorer })
}

/// The linkages an estimate is repeated over: as linked, one per threshold, then the drawn ones.
pub fn linkages(register: &Register, thresholds: &[f64], samples: usize, seed: u64) -> Vec<(String, Vec<u32>)> {
    let mut out = vec![("as linked".to_owned(), register.as_linked.clone())];
    let every_pair = vec![true; register.records.pairs.len()];
    for &t in thresholds {
        out.push((format!("p >= {t}"), persons_by_build_rule(register, &every_pair, t)));
    }
    for (i, drawn) in register.records.draws(samples, seed).iter().enumerate() {
        out.push((format!("drawn {}", i + 1), drawn_persons(register, drawn)));
    }
    out
}

/// The persons of a drawn linkage (one flag per stored pair), clustered by the build's rule
/// at the build's threshold (see [`persons_by_build_rule`]).
pub fn drawn_persons(register: &Register, joined: &[bool]) -> Vec<u32> {
    persons_by_build_rule(register, joined, register.threshold)
}

/// The persons of the stored pairs that `joined` flags, clustered by the build's rule
/// (`link::pipeline::BuildRule`) at match-probability `threshold`: joined pairs keep their match
/// weight, the others never join directly, and so a chain whose ends were drawn apart is cut as
/// the build cuts it. Pairs the register does not hold (scored below its floor, or never
/// compared) are scored again with the run's model, as the build scores them; a register without
/// a recorded model gives them the weakest stored weight instead, and weighs every pair whole
/// rather than field by field.
fn persons_by_build_rule(register: &Register, joined: &[bool], threshold: f64) -> Vec<u32> {
    let records = &register.records;
    let key = |a: usize, b: usize| (a.min(b), a.max(b));
    let weights: BTreeMap<(usize, usize), Option<f64>> = records
        .pairs
        .iter()
        .zip(joined)
        .map(|(p, &drawn)| (key(p.left, p.right), drawn.then_some(p.match_weight)))
        .collect();
    let unstored = records.pairs.iter().map(|p| p.match_weight).reduce(f64::min).unwrap_or(f64::NEG_INFINITY);
    let mut links: Vec<(u32, u32, f64)> = records
        .pairs
        .iter()
        .zip(joined)
        .filter(|(_, drawn)| **drawn)
        .map(|(p, _)| (p.left.min(p.right) as u32, p.left.max(p.right) as u32, p.match_weight))
        .collect();
    links.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let source: Vec<u32> = records.list_of.iter().map(|&l| l as u32).collect();
    let rule = link::pipeline::BuildRule { source: &source, sources: register.lists.len(), threshold };
    let pairs = |list: &[(usize, usize)]| list.iter().map(|&(a, b)| (a as u32, b as u32)).collect::<Vec<_>>();
    let scorer = register.rescorer.as_ref().map(|r| (link::fs::Scorer::for_many_pairs(&r.linker.model, &r.linker.data), &r.linker.data, &r.index));
    // With the run's model, joined and unstored pairs are weighed field by field, as the build
    // weighs the pairs of a component; without it, by their stored (or the weakest) weight.
    let evidence = |a: usize, b: usize| match (weights.get(&key(a, b)), &scorer) {
        (Some(None), _) => None,
        (_, Some((scorer, data, index))) => {
            let (x, y) = (index[a], index[b]);
            scorer.pattern_evidence(link::compare::compare(data, x, y), x, y)
        }
        (Some(&Some(stored)), None) => Some(link::cluster::Evidence::whole(stored)),
        (None, None) => Some(link::cluster::Evidence::whole(unstored)),
    };
    let (labels, _) = rule.cluster(&links, &pairs(&records.must_link), &pairs(&records.cannot_link), &evidence);
    records.histories_of(&labels)
}

/// The estimate from a register, as linked, and its spread over the linkages.
pub struct ProjectEstimate {
    pub lists: Vec<String>,
    pub linkages: Vec<(String, u64)>,
    pub rows: Vec<Estimate>,
    pub spreads: Vec<Spread>,
}

pub fn estimate_project(dir: &Path, families: &[Family], options: &Options, thresholds: &[f64], samples: usize) -> anyhow::Result<ProjectEstimate> {
    let register = read_register(dir, samples > 0)?;
    let lists = register.lists.len();
    let linkages = linkages(&register, thresholds, samples, options.lcmcr.seed);
    let histories: Vec<Vec<u32>> = linkages.iter().map(|(_, h)| h.clone()).collect();
    let runs = estimate_each(lists, &histories, families, options)?;
    Ok(ProjectEstimate {
        lists: register.lists,
        linkages: linkages.into_iter().map(|(name, h)| (name, h.len() as u64)).collect(),
        rows: runs.first().cloned().unwrap_or_default(),
        spreads: spread_of(&runs),
    })
}

fn run_project(args: &Args) -> anyhow::Result<()> {
    let dir = &args.table;
    let lists = ingest::Manifest::load(dir).map_or(0, |m| m.sources.len());
    let options = options(args, lists.max(1))?;
    let result = estimate_project(dir, &families(args.method), &options, &args.thresholds, args.linkage_samples)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&project_json(&result))?);
    } else {
        print!("{}", render_project(&dir.display().to_string(), &result));
    }
    Ok(())
}

/// `{lists, linkages: [{linkage, persons}], estimates: [...], linkage_spread: [...]}`.
pub fn project_json(result: &ProjectEstimate) -> serde_json::Value {
    serde_json::json!({
        "lists": result.lists,
        "linkages": result.linkages.iter().map(|(name, persons)| serde_json::json!({"linkage": name, "persons": persons})).collect::<Vec<_>>(),
        "estimates": result.rows,
        "linkage_spread": result.spreads,
    })
}

/// The estimate as linked (the table report), then how each method's estimate moves with the
/// linkage.
pub fn render_project(dir: &str, result: &ProjectEstimate) -> String {
    let table_lists: Vec<String> = result.lists.iter().enumerate().map(|(i, l)| format!("{} = {l}", i + 1)).collect();
    let mut out = format!("Lists (sources of the manifest): {}\n", table_lists.join(", "));
    let persons = result.linkages.first().map_or(0, |l| l.1);
    out.push_str(&render_rows(&format!("{dir} (register, as linked)"), result.lists.len(), persons, &result.rows));
    out.push_str("\nLinkage uncertainty: the same methods over other linkages of the same records\n");
    for (name, persons) in &result.linkages {
        out.push_str(&format!("  {name}: {} persons\n", thousands(*persons as f64)));
    }
    let width = result.spreads.iter().map(|s| s.method.len()).max().unwrap_or(6).max(6);
    out.push_str(&format!("\n{:<width$}  {:>10}  {:>10}  {:>10}  {}\n", "method", "lowest", "median", "highest", "interval over all linkages"));
    let number = |v: Option<f64>| v.map_or("none".to_string(), |v| thousands(v.round()));
    for s in &result.spreads {
        let interval = match (s.lower, s.upper) {
            (Some(lo), Some(hi)) => format!("{} - {}", thousands(lo.round()), thousands(hi.round())),
            _ => "-".to_string(),
        };
        out.push_str(&format!("{:<width$}  {:>10}  {:>10}  {:>10}  {interval}\n", s.method, number(s.min), number(s.median), number(s.max)));
    }
    out.push_str(
        "\nA stricter threshold splits more records into separate persons, which usually raises the estimate; \
         the interval over all linkages joins each linkage's own interval, so it carries both uncertainties.\n",
    );
    out
}

/// The plain-text report: one aligned row per method, then each method's model and reason, then
/// the warnings, so that no number stands without its assumptions.
fn render_rows(file: &str, lists: usize, observed: u64, rows: &[Estimate]) -> String {
    let mut out = format!(
        "Multiple systems estimation: {file}, {lists} lists, {} persons on at least one list\n\n",
        thousands(observed as f64)
    );
    let width = rows
        .iter()
        .map(|r| r.method.len())
        .max()
        .unwrap_or(6)
        .max(6);
    out.push_str(&format!(
        "{:<width$}  {:>10}  {:<22}  {}\n",
        "method", "estimate", "95% interval", "persons used"
    ));
    for r in rows {
        let estimate = r.estimate.map_or("none".to_string(), thousands);
        let interval = match (r.lower, r.upper) {
            (Some(lo), Some(hi)) => {
                format!("{} - {}", thousands(lo.round()), thousands(hi.round()))
            }
            (Some(lo), None) => format!("{} - no upper limit", thousands(lo.round())),
            _ => "-".to_string(),
        };
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:<22}  {}\n",
            r.method,
            estimate,
            interval,
            thousands(r.observed as f64)
        ));
    }
    out.push_str("\nModel chosen and why:\n");
    for r in rows {
        out.push_str(&format!("  {}: {}\n", r.method, r.model));
    }
    let warned: Vec<&Estimate> = rows.iter().filter(|r| !r.warnings.is_empty()).collect();
    if !warned.is_empty() {
        out.push_str("\nWarnings:\n");
        for r in warned {
            for w in &r.warnings {
                out.push_str(&format!("  {}: {w}\n", r.method));
            }
        }
    }
    out.push_str(
        "\nIntervals: chapman normal (SE of Seber); loglinear and bhs profile likelihood (or bootstrap); \
         sparsemse Wald on the log of the unseen; lcmcr and dga 2.5%-97.5% posterior quantiles.\n",
    );
    out
}

/// `[estimate]` in `kartoteka.toml`: `kartoteka build` then writes `out/estimate.json` (as
/// `kartoteka estimate PROJECT --json`), `out/estimate.txt` and `out/estimate.svg`.
///
/// ```toml
/// [estimate]
/// methods = ["chapman", "loglinear", "lcmcr"]   # default: every family
/// thresholds = [0.5, 0.8, 0.9, 0.95, 0.99]      # match probabilities to re-link at
/// linkage_samples = 20                          # linkages drawn from the match probabilities
/// seed = 12345
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    families: Vec<Family>,
    thresholds: Vec<f64>,
    linkage_samples: usize,
    seed: u64,
}

impl Declared {
    /// Reads and checks the `[estimate]` section; `None` when the manifest has none. Errors name
    /// the key, as the manifest's own do.
    pub fn from_section(section: Option<&toml::Value>) -> anyhow::Result<Option<Declared>> {
        let Some(section) = section else {
            return Ok(None);
        };
        let fail = |key: &str, message: String| anyhow::anyhow!("kartoteka.toml: estimate.{key}: {message}");
        let table = section.as_table().ok_or_else(|| anyhow::anyhow!("kartoteka.toml: estimate: expected a table"))?;
        let mut declared = Declared {
            families: Family::ALL.to_vec(),
            thresholds: vec![0.5, 0.8, 0.9, 0.95, 0.99],
            linkage_samples: 0,
            seed: 12345,
        };
        for (key, value) in table {
            match key.as_str() {
                "methods" => {
                    let names = value.as_array().ok_or_else(|| fail(key, "expected a list of method names".into()))?;
                    declared.families = names
                        .iter()
                        .enumerate()
                        .map(|(i, name)| {
                            name.as_str().and_then(Family::parse).ok_or_else(|| {
                                let known: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                                fail(&format!("{key}[{i}]"), format!("unknown method {name} (one of {})", known.join(", ")))
                            })
                        })
                        .collect::<anyhow::Result<_>>()?;
                }
                "thresholds" => {
                    let values = value.as_array().ok_or_else(|| fail(key, "expected a list of probabilities".into()))?;
                    declared.thresholds = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_float()
                                .or_else(|| v.as_integer().map(|n| n as f64))
                                .filter(|t| (0.0..=1.0).contains(t))
                                .ok_or_else(|| fail(&format!("{key}[{i}]"), format!("{v} is not a probability")))
                        })
                        .collect::<anyhow::Result<_>>()?;
                }
                "linkage_samples" | "seed" => {
                    let n = value
                        .as_integer()
                        .filter(|n| *n >= 0)
                        .ok_or_else(|| fail(key, format!("{value} is not a whole number")))?;
                    if key == "seed" {
                        declared.seed = n as u64;
                    } else {
                        declared.linkage_samples = n as usize;
                    }
                }
                _ => return Err(fail(key, "unknown key (methods, thresholds, linkage_samples, seed)".into())),
            }
        }
        Ok(Some(declared))
    }
}

/// What the build's estimation step made: the estimate for the report page, and its console line.
pub struct Built {
    pub result: ProjectEstimate,
    pub line: String,
}

/// The build's estimation step: writes `out/estimate.*`; `None` without `[estimate]`.
pub fn build_step(project_dir: &Path, section: Option<&toml::Value>, out: &Path) -> anyhow::Result<Option<Built>> {
    let Some(declared) = Declared::from_section(section)? else {
        return Ok(None);
    };
    let mut options = Options::default();
    options.lcmcr.seed = declared.seed;
    let result = estimate_project(project_dir, &declared.families, &options, &declared.thresholds, declared.linkage_samples)?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("estimate.json", &serde_json::to_string_pretty(&project_json(&result))?)?;
    write("estimate.txt", &render_project(&project_dir.display().to_string(), &result))?;
    write("estimate.svg", &plot::svg("Estimated total, as linked, with 95% intervals", &result.rows))?;
    let known: Vec<&Spread> = result.spreads.iter().filter(|s| s.min.is_some()).collect();
    let range = match (known.iter().filter_map(|s| s.min).reduce(f64::min), known.iter().filter_map(|s| s.max).reduce(f64::max)) {
        (Some(lo), Some(hi)) => format!("estimates {} to {}", thousands(lo.round()), thousands(hi.round())),
        _ => "no method could estimate".to_string(),
    };
    let line = format!(
        "estimate: {} lists, {} methods over {} linkages, {range}: {}",
        result.lists.len(),
        result.spreads.len(),
        result.linkages.len(),
        out.join("estimate.txt").display()
    );
    Ok(Some(Built { result, line }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records 0, 1, 2 on lists 0, 1, 2 and 3 on list 0: 0-1 and 1-2 strong, 0-2 weak, 2-3 middling.
    fn chain() -> Register {
        let pair = |left, right, match_weight: f64| ScoredPair {
            left,
            right,
            match_weight,
            match_probability: 1.0 / (1.0 + (-match_weight).exp2()),
        };
        let records = Linkable {
            list_of: vec![0, 1, 2, 0],
            pairs: vec![pair(0, 1, 9.0), pair(1, 2, 9.0), pair(0, 2, -5.0), pair(2, 3, 1.0)],
            ..Linkable::default()
        };
        Register { lists: vec!["a".into(), "b".into(), "c".into()], records, as_linked: Vec::new(), threshold: 0.5, rescorer: None }
    }

    #[test]
    fn a_drawn_chain_whose_ends_are_weak_is_cut_as_the_build_cuts_it() {
        let register = chain();
        let sorted = |mut h: Vec<u32>| {
            h.sort();
            format!("{h:?}")
        };
        let all = [true; 4];
        let shown = format!(
            "clustered {} components {}",
            sorted(drawn_persons(&register, &all)),
            sorted(register.records.histories_joined(&all))
        );
        // Components join all four records; the build's rule keeps 0-1 and 2-3 apart (lists
        // 0+1 and 0+2), as 0-2 and the unstored pairs 0-3 and 1-3 outweigh 1-2.
        assert_eq!(shown, "clustered [3, 5] components [7]");
    }

    #[test]
    fn drawn_linkages_give_at_least_as_many_persons_as_components_of_the_same_draws() {
        let register = chain();
        let draws = register.records.draws(200, 7);
        for drawn in &draws {
            let clustered = drawn_persons(&register, drawn).len();
            let components = register.records.histories_joined(drawn).len();
            assert!(clustered >= components, "{drawn:?}: {clustered} < {components}");
        }
        let more = draws.iter().filter(|d| drawn_persons(&register, d).len() > register.records.histories_joined(d).len()).count();
        assert!(more > 0, "the clustering never cut a drawn chain");
        assert_eq!(draws, register.records.draws(200, 7), "draws are seeded");
    }

    #[test]
    fn threshold_re_linkings_cluster_by_the_build_s_rule() {
        let register = chain();
        let by_linkage: BTreeMap<String, usize> =
            linkages(&register, &[0.5, 0.999], 0, 1).into_iter().map(|(name, persons)| (name, persons.len())).collect();
        let all = [true; 4];
        assert_eq!(by_linkage["p >= 0.5"], drawn_persons(&register, &all).len());
        assert!(by_linkage["p >= 0.5"] > register.records.histories_joined(&all).len(), "the chain is cut");
        assert!(by_linkage["p >= 0.999"] > by_linkage["p >= 0.5"], "{by_linkage:?}");
    }

    /// Drawing in exactly the links the build kept gives the build's persons.
    #[test]
    fn every_link_drawn_in_reproduces_the_build_s_persons() {
        let simulated = link::simulate::simulate(300, 3, 5);
        let records = &simulated.records;
        let spec = link::LinkSpec { u_sample_pairs: 20_000, ..link::LinkSpec::infer(records) };
        let inputs = link::LinkInputs { pair_floor: 0.02, ..link::LinkInputs::first_run(&spec, &link::FoldingMatcher) };
        let built = link::link(records, &inputs).expect("links");
        let mut lists: Vec<String> = records.iter().map(|r| format!("{:?}", r.source)).collect();
        lists.sort();
        lists.dedup();
        let list_of = records.iter().map(|r| lists.binary_search(&format!("{:?}", r.source)).unwrap()).collect();
        let pairs = built
            .pairs
            .iter()
            .map(|p| ScoredPair { left: p.left as usize, right: p.right as usize, match_weight: p.match_weight, match_probability: p.match_probability })
            .collect();
        let linkable = Linkable { list_of, pairs, ..Linkable::default() };
        let as_linked = linkable.histories_of(&built.persons);
        let ids: Vec<&model::RecordId> = records.iter().map(|r| &r.id).collect();
        let rescorer = Rescorer::new(records, &spec, built.model.clone(), &ids).expect("prepares");
        let register = Register { lists, records: linkable, as_linked, threshold: spec.threshold, rescorer: Some(rescorer) };
        // The build's links: the pairs it kept for clustering.
        let keep_from = link::pipeline::keep_from(&inputs);
        let joined: Vec<bool> = register.records.pairs.iter().map(|p| p.match_probability >= keep_from).collect();
        let mut drawn = drawn_persons(&register, &joined);
        let mut build = register.as_linked.clone();
        drawn.sort();
        build.sort();
        // Components of the same links merge chains the build cut.
        assert!(register.records.histories_joined(&joined).len() < build.len());
        assert_eq!((drawn.len(), drawn), (build.len(), build));
    }
}
