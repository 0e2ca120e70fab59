//! `link`'s blocking, comparison and scoring, and `names`' keys, as DataFusion scalar functions.
//!
//! Registered by name on every tier (the client's session, the scheduler's session builder and
//! each executor's function registry), so a plan that calls them can be planned anywhere and run
//! on any worker. Each call prepares the batch's distinct records once (see [`crate::batch`]).

use crate::batch::BatchRecords;
use crate::wire::JobParams;
use datafusion::arrow::array::{Array, ArrayRef, Float64Builder, StringArray, StringBuilder, UInt32Array, UInt64Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// `kartoteka_candidate(params, rule, payload_l, payload_r)`: the pair's mask in the counts EM
/// trains on (`link::pipeline::count_mask`) when `rule` produces the pair and it may link, else null.
pub const CANDIDATE: &str = "kartoteka_candidate";
/// `kartoteka_pattern(params, payload_l, payload_r)`: the pair's agreement pattern.
pub const PATTERN: &str = "kartoteka_pattern";
/// `kartoteka_kept_weight(params, rule, payload_l, payload_r)`: the match weight of a candidate
/// the run keeps, else null.
pub const KEPT_WEIGHT: &str = "kartoteka_kept_weight";
/// `kartoteka_name_key(name)`: the script-independent matching key of a whole name.
pub const NAME_KEY: &str = "kartoteka_name_key";

/// Every function this crate registers.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        PairFunction::new(CANDIDATE, 4, DataType::UInt64),
        PairFunction::new(PATTERN, 3, DataType::UInt64),
        PairFunction::new(KEPT_WEIGHT, 4, DataType::Float64),
    ]
    .into_iter()
    .map(|f| Arc::new(ScalarUDF::from(f)))
    .chain(std::iter::once(Arc::new(ScalarUDF::from(NameKey { signature: Signature::any(1, Volatility::Immutable) }))))
    .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PairFunction {
    name: &'static str,
    signature: Signature,
    returns: DataType,
}

impl PairFunction {
    fn new(name: &'static str, arity: usize, returns: DataType) -> PairFunction {
        PairFunction { name, signature: Signature::any(arity, Volatility::Immutable), returns }
    }
}

fn exec_err(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(e.to_string())
}

/// A string argument as a plain UTF-8 array of `rows` values (literals repeated).
fn strings(arg: &ColumnarValue, rows: usize) -> Result<StringArray> {
    let array = arg.to_array(rows)?;
    let array = cast(&array, &DataType::Utf8)?;
    Ok(array.as_any().downcast_ref::<StringArray>().ok_or_else(|| exec_err("expected text"))?.clone())
}

fn literal_text(arg: &ColumnarValue) -> Result<String> {
    match arg {
        ColumnarValue::Scalar(s) => match s.try_as_str() {
            Some(Some(t)) => Ok(t.to_owned()),
            _ => Err(exec_err("job parameters must be a text literal")),
        },
        ColumnarValue::Array(a) => {
            let a = cast(a, &DataType::Utf8)?;
            let a = a.as_any().downcast_ref::<StringArray>().ok_or_else(|| exec_err("expected text"))?;
            if a.is_empty() || a.is_null(0) {
                return Err(exec_err("job parameters missing"));
            }
            Ok(a.value(0).to_owned())
        }
    }
}

impl ScalarUDFImpl for PairFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let params = JobParams::decode(&literal_text(&args.args[0])?).map_err(exec_err)?;
        let with_rule = self.name != PATTERN;
        let rules: Option<UInt32Array> = if with_rule {
            let r = cast(&args.args[1].to_array(rows)?, &DataType::UInt32)?;
            Some(r.as_any().downcast_ref::<UInt32Array>().ok_or_else(|| exec_err("rule must be a number"))?.clone())
        } else {
            None
        };
        let first = if with_rule { 2 } else { 1 };
        let (left, right) = (strings(&args.args[first], rows)?, strings(&args.args[first + 1], rows)?);
        let valid: Vec<usize> = (0..rows).filter(|&i| !left.is_null(i) && !right.is_null(i)).collect();
        let texts: Vec<&str> = valid.iter().flat_map(|&i| [left.value(i), right.value(i)]).collect();
        let (batch, positions) = BatchRecords::new(&texts, &params).map_err(exec_err)?;
        let mut pairs: Vec<Option<(usize, usize)>> = vec![None; rows];
        for (k, &i) in valid.iter().enumerate() {
            pairs[i] = Some((positions[2 * k], positions[2 * k + 1]));
        }
        let pair = |i: usize| pairs[i];
        let out: ArrayRef = match self.name {
            CANDIDATE => {
                let rules = rules.expect("candidate takes a rule");
                let mut b = UInt64Builder::with_capacity(rows);
                for i in 0..rows {
                    b.append_option(
                        pair(i).and_then(|(l, r)| batch.candidate(rules.value(i) as usize, l, r, &params.rule_masks)),
                    );
                }
                Arc::new(b.finish())
            }
            PATTERN => {
                let mut b = UInt64Builder::with_capacity(rows);
                for i in 0..rows {
                    b.append_option(pair(i).map(|(l, r)| batch.pattern(l, r)));
                }
                Arc::new(b.finish())
            }
            _ => {
                let rules = rules.expect("kept weight takes a rule");
                let scoring = params.scoring.as_ref().ok_or_else(|| exec_err("scoring without a model"))?;
                let scorer = link::fs::Scorer::new(&scoring.model, &batch.data);
                let mut b = Float64Builder::with_capacity(rows);
                for i in 0..rows {
                    b.append_option(pair(i).and_then(|(l, r)| {
                        batch.candidate(rules.value(i) as usize, l, r, &params.rule_masks)?;
                        batch.kept_weight(&scorer, l, r, scoring.keep_from)
                    }));
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NameKey {
    signature: Signature,
}

impl ScalarUDFImpl for NameKey {
    fn name(&self) -> &str {
        NAME_KEY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        if let ColumnarValue::Scalar(s) = &args.args[0] {
            let key = s.try_as_str().flatten().map(names::key);
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(key)));
        }
        let names = strings(&args.args[0], rows)?;
        let mut b = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            b.append_option((!names.is_null(i)).then(|| names::key(names.value(i))));
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish())))
    }
}
