//! `kartoteka estimate TABLE.csv`: multiple systems estimation from a `pattern,count` overlap
//! table, every method side by side (or JSON), with the model each chose and why, and warnings.

use analysis::estimate::{
    self, Estimate, Family, HierarchicalModel, Options, OverlapTable, plot, thousands,
};
use anyhow::{Context, bail};
use std::path::PathBuf;

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
    /// Overlap table: `pattern,count` with one 0/1 character per list (leftmost = list 1).
    table: PathBuf,
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
    #[arg(long)]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap and of the LCMCR chains.
    #[arg(long, default_value_t = 12345)]
    seed: u64,
    /// Write an SVG plot of the estimates and intervals here.
    #[arg(long)]
    svg: Option<PathBuf>,
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
    let file = args.table.display();
    let text = std::fs::read_to_string(&args.table)
        .with_context(|| format!("{file}: cannot read the table"))?;
    let table = OverlapTable::parse_csv(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    if let Err(reason) = estimate::table_check(&table) {
        bail!("{file}: no estimate of the total exists for this table: {reason}");
    }
    let mut options = Options {
        pair: args.pair,
        ..Options::default()
    };
    options.lcmcr.seed = args.seed;
    options.loglinear.bootstrap = args.bootstrap.map(|n| (n, args.seed));
    if let Some(text) = &args.model {
        options.loglinear.model = Some(
            HierarchicalModel::parse(table.lists(), text)
                .map_err(|e| anyhow::anyhow!("--model: {e}"))?,
        );
    }
    let families: Vec<Family> = match args.method {
        MethodArg::All => Family::ALL.to_vec(),
        MethodArg::Chapman => vec![Family::Chapman],
        MethodArg::Loglinear => vec![Family::Loglinear],
        MethodArg::Bhs => vec![Family::Bhs],
        MethodArg::Sparsemse => vec![Family::SparseMse],
        MethodArg::Lcmcr => vec![Family::Lcmcr],
        MethodArg::Dga => vec![Family::Dga],
    };
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
        print!("{}", render(&file.to_string(), &table, &rows));
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

/// The plain-text report: one aligned row per method, then each method's model and reason, then
/// the warnings, so that no number stands without its assumptions.
fn render(file: &str, table: &OverlapTable, rows: &[Estimate]) -> String {
    let mut out = format!(
        "Multiple systems estimation: {file}, {} lists, {} persons on at least one list\n\n",
        table.lists(),
        thousands(table.observed() as f64)
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
