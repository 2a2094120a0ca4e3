//! The pest parser of `grammar/rolemap.pest`, kept private so that pest's
//! generated `Rule` enum does not meet the crate's own names.

#[derive(pest_derive::Parser)]
#[grammar = "grammar/rolemap.pest"]
pub(crate) struct TextParser;
