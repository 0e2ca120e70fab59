//! `link`'s blocking, comparison and scoring, and `names`' keys, as DataFusion scalar functions.
//!
//! Registered by name on every tier (the client's session, the scheduler's session builder and
//! each executor's function registry), so a plan that calls them can be planned anywhere and run
//! on any worker. A call gets a batch of whole blocks and prepares the batch's distinct records
//! once (see [`crate::batch`]).

use crate::batch::BatchRecords;
use crate::wire::JobParams;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, ListArray, StringArray, StringBuilder, StructArray, UInt32Array, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `kartoteka_block_patterns(params, rule, payloads)`: over the candidate pairs of one block of
/// `rule` (the payloads of its records, in any order) that `rule` produces and that may link, the
/// number of pairs per (agreement pattern, mask in the counts EM trains on,
/// `link::pipeline::count_mask`): a list of `{pattern, mask, n}`.
pub const BLOCK_PATTERNS: &str = "kartoteka_block_patterns";
/// `kartoteka_block_kept(params, rule, payloads)`: the pairs of one block of `rule` that the run
/// keeps, with their match weights: a list of `{l, r, w}` (record indexes, `l < r`).
pub const BLOCK_KEPT: &str = "kartoteka_block_kept";
/// `kartoteka_name_key(name)`: the script-independent matching key of a whole name.
pub const NAME_KEY: &str = "kartoteka_name_key";

/// Every function this crate registers.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [BlockFunction::new(BLOCK_PATTERNS), BlockFunction::new(BLOCK_KEPT)]
        .into_iter()
        .map(|f| Arc::new(ScalarUDF::from(f)))
        .chain(std::iter::once(Arc::new(ScalarUDF::from(NameKey { signature: Signature::any(1, Volatility::Immutable) }))))
        .collect()
}

/// A function over whole blocks: every pair of a block is compared where its records were
/// prepared, so a record crosses the network once per block it is in, not once per pair.
#[derive(Debug, PartialEq, Eq, Hash)]
struct BlockFunction {
    name: &'static str,
    signature: Signature,
}

impl BlockFunction {
    fn new(name: &'static str) -> BlockFunction {
        BlockFunction { name, signature: Signature::any(3, Volatility::Immutable) }
    }

    fn item_fields(&self) -> Fields {
        let fields = if self.name == BLOCK_PATTERNS {
            vec![Field::new("pattern", DataType::UInt64, false), Field::new("mask", DataType::UInt64, false), Field::new("n", DataType::UInt64, false)]
        } else {
            vec![Field::new("l", DataType::UInt32, false), Field::new("r", DataType::UInt32, false), Field::new("w", DataType::Float64, false)]
        };
        Fields::from(fields)
    }

    fn item_field(&self) -> FieldRef {
        Arc::new(Field::new_list_field(DataType::Struct(self.item_fields()), false))
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

/// The encoded payloads at `range` of a list's values, read in place (Parquet gives binary
/// views, an aggregate may give plain binary).
fn payload_bytes(values: &ArrayRef, range: std::ops::Range<usize>) -> Result<Vec<&[u8]>> {
    if values.null_count() > 0 {
        return Err(exec_err("a block lists a record without a payload"));
    }
    Ok(match values.data_type() {
        DataType::BinaryView => range.map(|i| values.as_binary_view().value(i)).collect(),
        DataType::Binary => range.map(|i| values.as_binary::<i32>().value(i)).collect(),
        DataType::LargeBinary => range.map(|i| values.as_binary::<i64>().value(i)).collect(),
        other => return Err(exec_err(format!("payloads must be binary, not {other}"))),
    })
}

/// Per row (block), the batch positions of its records, ordered by record index; `positions`
/// holds the position of each list value from offset `first` on.
fn block_members(batch: &BatchRecords, lists: &ListArray, first: usize, positions: &[usize]) -> Vec<Vec<usize>> {
    let offsets = lists.value_offsets();
    (0..lists.len())
        .map(|row| {
            if lists.is_null(row) {
                return Vec::new();
            }
            let mut members: Vec<usize> = positions[offsets[row] as usize - first..offsets[row + 1] as usize - first].to_vec();
            members.sort_unstable_by_key(|&p| batch.payloads[p].rec);
            members.dedup();
            members
        })
        .collect()
}

impl ScalarUDFImpl for BlockFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(self.item_field()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let params = JobParams::decode(&literal_text(&args.args[0])?).map_err(exec_err)?;
        let rules = cast(&args.args[1].to_array(rows)?, &DataType::UInt32)?;
        let rules = rules.as_any().downcast_ref::<UInt32Array>().ok_or_else(|| exec_err("rule must be a number"))?;
        let lists = args.args[2].to_array(rows)?;
        let lists = lists.as_any().downcast_ref::<ListArray>().ok_or_else(|| exec_err("payloads must be a list (array_agg)"))?;
        let (first, last) = (lists.value_offsets()[0] as usize, lists.value_offsets()[rows] as usize);
        let all = payload_bytes(lists.values(), first..last)?;
        let (batch, positions) = BatchRecords::new(&all, &params).map_err(exec_err)?;
        let members = block_members(&batch, lists, first, &positions);
        let mut offsets: Vec<i32> = Vec::with_capacity(rows + 1);
        offsets.push(0);
        let columns: Vec<ArrayRef> = if self.name == BLOCK_PATTERNS {
            let (mut patterns, mut masks, mut counts) = (Vec::new(), Vec::new(), Vec::new());
            for (row, block) in members.iter().enumerate() {
                let rule = rules.value(row) as usize;
                let mut counted: BTreeMap<(u64, u64), u64> = BTreeMap::new();
                for (i, &a) in block.iter().enumerate() {
                    for &b in &block[i + 1..] {
                        if let Some(mask) = batch.candidate(rule, a, b, &params.rule_masks) {
                            *counted.entry((batch.pattern(a, b), mask)).or_default() += 1;
                        }
                    }
                }
                for ((pattern, mask), n) in counted {
                    patterns.push(pattern);
                    masks.push(mask);
                    counts.push(n);
                }
                offsets.push(patterns.len() as i32);
            }
            vec![Arc::new(UInt64Array::from(patterns)), Arc::new(UInt64Array::from(masks)), Arc::new(UInt64Array::from(counts))]
        } else {
            let scoring = params.scoring.as_ref().ok_or_else(|| exec_err("scoring without a model"))?;
            let scorer = link::fs::Scorer::new(&scoring.model, &batch.data);
            let (mut lefts, mut rights, mut weights) = (Vec::new(), Vec::new(), Vec::new());
            for (row, block) in members.iter().enumerate() {
                let rule = rules.value(row) as usize;
                for (i, &a) in block.iter().enumerate() {
                    for &b in &block[i + 1..] {
                        if batch.candidate(rule, a, b, &params.rule_masks).is_none() {
                            continue;
                        }
                        if let Some(w) = batch.kept_weight(&scorer, a, b, scoring.keep_from) {
                            lefts.push(batch.payloads[a].rec);
                            rights.push(batch.payloads[b].rec);
                            weights.push(w);
                        }
                    }
                }
                offsets.push(lefts.len() as i32);
            }
            vec![Arc::new(UInt32Array::from(lefts)), Arc::new(UInt32Array::from(rights)), Arc::new(Float64Array::from(weights))]
        };
        let items = StructArray::try_new(self.item_fields(), columns, None)?;
        let list = ListArray::try_new(self.item_field(), OffsetBuffer::new(offsets.into()), Arc::new(items), None)?;
        Ok(ColumnarValue::Array(Arc::new(list)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{MatcherKind, RecordPayload};
    use datafusion::arrow::array::{BinaryBuilder, ListBuilder};
    use datafusion::arrow::datatypes::UInt64Type;
    use datafusion::config::ConfigOptions;
    use link::{FoldingMatcher, LinkInputs, LinkSpec};
    use std::collections::BTreeMap;

    /// A simulated register's blocks of two or more records, as the SQL groups them:
    /// (parameters, rule per block, payloads per block), and the local run's candidate count.
    fn register_blocks() -> (String, Vec<u32>, Vec<Vec<Vec<u8>>>, u64) {
        let register = link::simulate::simulate(300, 3, 5);
        let spec = LinkSpec::infer(&register.records);
            let inputs = LinkInputs::first_run(&spec, &FoldingMatcher);
        let blocked = link::Blocked::new(&register.records, &inputs).expect("blocks");
        let mut blocks: BTreeMap<(u32, u64), Vec<Vec<u8>>> = BTreeMap::new();
        for (i, record) in register.records.iter().enumerate() {
            let payload = RecordPayload::new(record, i, &blocked).encode();
            for (rule, key) in blocked.blocker.record_keys(i).into_iter().enumerate() {
                if key != link::block::ABSENT {
                    blocks.entry((rule as u32, key)).or_default().push(payload.clone());
                }
            }
        }
        blocks.retain(|_, members| members.len() > 1);
        // Members in reverse input order: the functions must not rely on array_agg's order.
        let (rules, lists) = blocks.into_iter().map(|((rule, _), mut members)| {
            members.reverse();
            (rule, members)
        }).unzip();
        let local = link::link(&register.records, &inputs).expect("links locally");
        (JobParams::counting(&blocked, &spec, MatcherKind::Folding).to_json(), rules, lists, local.candidate_pairs)
    }

    fn call(function: &ScalarUDF, params: &str, rules: &UInt32Array, lists: &ListArray) -> ListArray {
        let args = vec![
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(params.to_owned()))),
            ColumnarValue::Array(Arc::new(rules.clone())),
            ColumnarValue::Array(Arc::new(lists.clone())),
        ];
        let arg_fields = args.iter().map(|a| Arc::new(Field::new("a", a.data_type(), true))).collect();
        let return_type = function.return_type(&[]).expect("return type");
        let out = function
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: rules.len(),
                return_field: Arc::new(Field::new("out", return_type, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .expect("the function runs");
        match out {
            ColumnarValue::Array(a) => a.as_list::<i32>().clone(),
            ColumnarValue::Scalar(_) => panic!("a block function returns one list per block"),
        }
    }

    #[test]
    fn block_patterns_count_every_candidate_once_and_a_sliced_batch_gives_the_same_blocks() {
        let (params, rules, lists, local_candidates) = register_blocks();
        let rules = UInt32Array::from(rules);
        let mut builder = ListBuilder::new(BinaryBuilder::new());
        for members in &lists {
            builder.append_value(members.iter().map(Some));
        }
        let lists = builder.finish();
        let patterns = functions().into_iter().find(|f| f.name() == BLOCK_PATTERNS).expect("registered");
        let whole = call(&patterns, &params, &rules, &lists);
        let counted: u64 = whole.values().as_struct().column_by_name("n").expect("n").as_primitive::<UInt64Type>().values().iter().sum();
        assert_eq!(counted, local_candidates);

        // Aggregates hand functions slices of their output: offsets that do not start at 0.
        let (from, len) = (rules.len() / 3, rules.len() / 2);
        let sliced = call(&patterns, &params, &rules.slice(from, len), &lists.slice(from, len));
        assert_eq!(sliced, whole.slice(from, len));
    }
}
