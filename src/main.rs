//! The `rolemap` command: check, evaluate and inspect Elasticsearch role mappings.

use clap::{Parser, Subcommand};
use rolemap::{Model, Options, Program, RuleSet, User, Validation};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Elasticsearch role mappings, compiled.
#[derive(Debug, Parser)]
#[command(name = "rolemap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate mapping files: a summary line per file, or the errors with their JSON pointers.
    /// Exits 0 when every file is valid, 2 otherwise.
    Check {
        /// Mapping files (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Resolve the roles of one user: prints `{"roles": [...], "mappings": [...]}`.
    /// Exits 1 when resolution fails as it would in Elasticsearch, 2 on invalid input.
    Eval {
        /// The mapping file (`-` for standard input).
        #[arg(long)]
        mappings: PathBuf,
        /// The user file: `{"username", "dn", "groups", "realm": {"name"}, "metadata"}` (`-` for standard input).
        #[arg(long)]
        user: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Print the compiled program: fields, predicates, indexes, anchors and bytecode per mapping.
    Disasm {
        /// The mapping file (`-` for standard input).
        #[arg(long)]
        mappings: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Check as Elasticsearch checks stored mapping documents: skip (and report) a bad mapping
    /// instead of rejecting the file.
    #[arg(long)]
    stored: bool,
}

impl LoadArgs {
    fn options(&self) -> Options {
        let mut options = Options::default();
        if self.stored {
            options.validation = Validation::Stored;
        }
        options
    }
}

/// Exit status for invalid input (mappings, user file, usage), as clap uses for usage errors.
const INVALID: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files, load } => check(&files, &load.options()),
        Command::Eval { mappings, user, load } => eval(&mappings, &user, &load.options()),
        Command::Disasm { mappings, load } => disasm(&mappings, &load.options()),
    }
}

fn read(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    result.map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

/// The name a single mapping body gets: its file's stem.
fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(|| "mapping".to_owned(), |s| s.to_string_lossy().into_owned())
}

fn load(path: &Path, options: &Options) -> Result<RuleSet, String> {
    let text = read(path)?;
    match RuleSet::from_json(&text, &stem(path), options) {
        Ok(rules) => {
            for skipped in rules.skipped() {
                eprintln!("{}: skipped: {skipped}", path.display());
            }
            Ok(rules)
        }
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("{}: error: {e}", path.display())).collect();
            Err(lines.join("\n"))
        }
    }
}

fn check(files: &[PathBuf], options: &Options) -> ExitCode {
    let mut ok = true;
    for path in files {
        match load(path, options).and_then(|rules| compile(&rules).map(|p| (rules, p))) {
            Ok((rules, program)) => {
                let skipped = rules.skipped().len();
                let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
                println!("{}: ok, {} mappings ({} active){skipped}", path.display(), rules.len(), program.len());
            }
            Err(message) => {
                ok = false;
                println!("{message}");
            }
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::from(INVALID) }
}

fn compile(rules: &RuleSet) -> Result<Program, String> {
    Program::compile(rules).map_err(|e| format!("error: {e}"))
}

fn eval(mappings: &Path, user: &Path, options: &Options) -> ExitCode {
    let program = match load(mappings, options).and_then(|rules| compile(&rules)) {
        Ok(program) => program,
        Err(message) => return fail(&message, INVALID),
    };
    let user = match read(user).and_then(|text| User::from_json(&text).map_err(|e| format!("{}: {e}", user.display())))
    {
        Ok(user) => user,
        Err(message) => return fail(&message, INVALID),
    };
    let model = match Model::new(&user) {
        Ok(model) => model,
        Err(e) => return fail(&format!("role resolution failed: {e}"), 1),
    };
    match program.resolve(&model) {
        Ok(resolution) => {
            let out = serde_json::json!({"roles": resolution.roles, "mappings": resolution.mappings});
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("role resolution failed: {e}"), 1),
    }
}

fn disasm(mappings: &Path, options: &Options) -> ExitCode {
    match load(mappings, options).and_then(|rules| compile(&rules)) {
        Ok(program) => {
            print!("{program}");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message, INVALID),
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(code)
}
