//! The `rolemap` command: check, evaluate and inspect Elasticsearch role
//! mappings, and authenticate JWTs with Elasticsearch's JWT realm settings.

mod bench;

/// `print!` that does not panic when stdout is gone (`rolemap ... | head`):
/// a closed pipe ends the process quietly, as it would a C tool on SIGPIPE.
macro_rules! out {
    ($($arg:tt)*) => {
        write_stdout(format_args!($($arg)*))
    };
}

/// `println!` on top of [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {
        write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

use clap::{Parser, Subcommand, ValueEnum};
use rolemap::jwt::{Realms, settings};
use rolemap::{Error, Model, Options, Program, RuleSet, Syntax, User, Validation, parse, text};
use serde_json::{Value, json};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Elasticsearch role mappings, compiled.
#[derive(Debug, Parser)]
#[command(name = "rolemap", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate mapping files: a summary line per file, or the errors with their JSON pointers
    /// (JSON) or lines and columns (`.rolemap` text files).
    /// Exits 0 when every file is valid, 2 otherwise.
    Check {
        /// Mapping files, JSON or `.rolemap` text (`-` for standard input, JSON unless `--syntax text`).
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
    /// Authenticate a request with JWT realms and map the user to roles: prints
    /// `{"realm", "principal", "groups", "dn", "email", "full_name", "metadata", "roles"}`.
    /// Exits 1 when the token is rejected (printing `{"error": {"realm", "stage", "reason"}}`),
    /// 2 on invalid configuration, mappings or usage.
    #[command(group = clap::ArgGroup::new("request").required(true).multiple(true).args(["token", "token_file", "header"]))]
    Auth {
        /// Realm settings, as in `elasticsearch.yml` (`xpack.security.authc.realms.jwt.<name>.*`).
        #[arg(long)]
        realms: PathBuf,
        /// Secure settings (`hmac_key`, `hmac_jwkset`, `client_authentication.shared_secret`) in the same key format.
        #[arg(long)]
        secrets: Option<PathBuf>,
        /// The role mappings the user is mapped with.
        #[arg(long)]
        mappings: PathBuf,
        /// The JWT, sent as `Authorization: Bearer <JWT>`.
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        /// A file holding the JWT, sent as `Authorization: Bearer <JWT>`.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A request header, `Name: value` (repeatable).
        #[arg(short = 'H', long = "header")]
        header: Vec<String>,
        /// Sends `ES-Client-Authentication: SharedSecret <S>`.
        #[arg(long)]
        client_secret: Option<String>,
        /// The time to validate at, in seconds since the epoch (default: now).
        #[arg(long, allow_hyphen_values = true)]
        now: Option<i64>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Measure compile and evaluation on the built-in synthetic workload (see the README),
    /// against the reference interpreter in the same run.
    Bench {
        /// Workload sizes, in mappings.
        #[arg(long, value_delimiter = ',', default_values_t = [100, 1_000, 10_000, 100_000])]
        mappings: Vec<usize>,
        /// Print a JSON array of objects instead of a table.
        #[arg(long)]
        json: bool,
        /// Also compare the throughput of two threads resolving at once with one.
        #[arg(long)]
        scaling: bool,
    },
    /// Rewrite `.rolemap` files in canonical form, keeping their comments.
    /// Exits 0 when done, or with `--check` 0 when every file is already formatted and 1
    /// (listing the others) when not; 2 when a file cannot be read or parsed.
    Fmt {
        /// `.rolemap` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only list the files that are not formatted; change nothing.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Print a mapping file in the other form: JSON (the `GET _security/role_mapping` shape) or
    /// canonical text. Exits 2 when the file cannot be read or parsed.
    Convert {
        /// The form to print.
        #[arg(long, value_enum)]
        to: Target,
        /// The mapping file, JSON or `.rolemap` text (`-` for standard input, JSON unless `--syntax text`).
        file: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        syntax: SyntaxArg,
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

/// The forms `convert` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    /// JSON, as the role mapping API returns it.
    Json,
    /// The `.rolemap` text form.
    Text,
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Check as Elasticsearch checks stored mapping documents: skip (and report) a bad mapping
    /// instead of rejecting the file.
    #[arg(long)]
    stored: bool,
    #[command(flatten)]
    syntax: SyntaxArg,
}

#[derive(Debug, clap::Args)]
struct SyntaxArg {
    /// How mapping files are written: `text` for the `.rolemap` form, `json` otherwise
    /// (default: `text` for a `.rolemap` file, else `json`, as for `-`).
    #[arg(long, value_enum)]
    syntax: Option<SyntaxName>,
}

/// The forms mapping files are read in.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum SyntaxName {
    /// A JSON document.
    Json,
    /// The `.rolemap` text form.
    Text,
}

impl SyntaxArg {
    /// The syntax of `path`: the one asked for, else by its extension.
    fn of(&self, path: &Path) -> Syntax {
        match self.syntax {
            Some(SyntaxName::Json) => Syntax::Json,
            Some(SyntaxName::Text) => Syntax::Text,
            None => Syntax::of_path(path),
        }
    }
}

/// How `fmt` and `convert` read: they only parse, and never leave a mapping out.
#[derive(Debug, clap::Args)]
struct ReadArgs {
    /// Read as Elasticsearch reads stored mapping documents: a role template that does not
    /// parse is kept as written (`script ...` in the text form) instead of being an error.
    #[arg(long)]
    stored: bool,
}

impl ReadArgs {
    fn options(&self) -> Options {
        LoadArgs { stored: self.stored, syntax: SyntaxArg { syntax: None } }.options()
    }
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
        Command::Check { files, load } => check(&files, &load),
        Command::Eval { mappings, user, load } => eval(&mappings, &user, &load),
        Command::Disasm { mappings, load } => disasm(&mappings, &load),
        Command::Fmt { files, check, read } => fmt(&files, check, &read.options()),
        Command::Convert { to, file, read, syntax } => convert(&file, to, syntax.of(&file), &read.options()),
        Command::Bench { mappings, json, scaling } => bench(&mappings, json, scaling),
        Command::Auth { realms, secrets, mappings, token, token_file, header, client_secret, now, load } => {
            let request = AuthRequest { token, token_file, header, client_secret, now };
            auth(&realms, secrets.as_deref(), &mappings, &request, &load)
        }
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

/// Loads a mapping file, JSON or text as `--syntax` says, else by its name
/// (see `Syntax::of_path`).
fn load(path: &Path, load: &LoadArgs) -> Result<RuleSet, String> {
    let text = read(path)?;
    let syntax = load.syntax.of(path);
    match RuleSet::from_source(&text, &stem(path), syntax, &load.options()) {
        Ok(rules) => {
            for skipped in rules.skipped() {
                let skipped = if syntax == Syntax::Text { skipped.render(&text) } else { skipped.to_string() };
                eprintln!("{}: skipped: {skipped}", path.display());
            }
            Ok(rules)
        }
        Err(errors) => Err(describe_errors(path, &text, syntax, &errors)),
    }
}

/// One `FILE: error: ...` line per error; for a text file each is followed by
/// its source line and a caret under the column.
fn describe_errors<'e>(
    path: &Path,
    source: &str,
    syntax: Syntax,
    errors: impl IntoIterator<Item = &'e Error>,
) -> String {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let message = if syntax == Syntax::Text { e.render(source) } else { e.to_string() };
            format!("{}: error: {message}", path.display())
        })
        .collect();
    lines.join("\n")
}

fn fmt(files: &[PathBuf], check: bool, options: &Options) -> ExitCode {
    let mut invalid = false;
    let mut unformatted = false;
    for path in files {
        if Syntax::of_path(path) != Syntax::Text {
            eprintln!("{}: error: not a `.{}` file", path.display(), text::EXTENSION);
            invalid = true;
            continue;
        }
        let source = match read(path) {
            Ok(source) => source,
            Err(message) => {
                eprintln!("{message}");
                invalid = true;
                continue;
            }
        };
        let formatted = match text::format(&source, &stem(path), options) {
            Ok(formatted) => formatted,
            Err(errors) => {
                eprintln!("{}", describe_errors(path, &source, Syntax::Text, &errors));
                invalid = true;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if check {
            outln!("{}", path.display());
            unformatted = true;
        } else if let Err(e) = std::fs::write(path, formatted) {
            eprintln!("{}: cannot write: {e}", path.display());
            invalid = true;
        }
    }
    match (invalid, unformatted) {
        (true, _) => ExitCode::from(INVALID),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    }
}

/// Parses a file (only parses: the checks of `check` are not made, so a file
/// with, say, a bad pattern still converts) and prints it in the other form.
fn convert(path: &Path, to: Target, syntax: Syntax, options: &Options) -> ExitCode {
    let source = match read(path) {
        Ok(source) => source,
        Err(message) => return fail(&message, INVALID),
    };
    let name = stem(path);
    let parsed = match (syntax, to) {
        // Text to text is `fmt` to standard output: the comments stay.
        (Syntax::Text, Target::Text) => {
            return match text::format(&source, &name, options) {
                Ok(formatted) => {
                    out!("{formatted}");
                    ExitCode::SUCCESS
                }
                Err(errors) => fail(&describe_errors(path, &source, syntax, &errors), INVALID),
            };
        }
        (Syntax::Text, Target::Json) => text::parse(&source, &name, options),
        (Syntax::Json, _) => parse::parse_json(&source, &name, options),
    };
    let set = match parsed {
        // A mapping left out by `--stored` would be lost in the conversion.
        Ok((set, skipped)) if skipped.is_empty() => set,
        Ok((_, skipped)) => return fail(&describe_errors(path, &source, syntax, &skipped), INVALID),
        Err(errors) => return fail(&describe_errors(path, &source, syntax, &errors), INVALID),
    };
    match to {
        // Serialized, not as a `Value`: mappings in document order, keys in
        // Elasticsearch's.
        Target::Json => outln!("{}", serde_json::to_string_pretty(&set).unwrap_or_default()),
        Target::Text => out!("{}", text::print(&set)),
    }
    ExitCode::SUCCESS
}

fn check(files: &[PathBuf], load_args: &LoadArgs) -> ExitCode {
    let mut ok = true;
    for path in files {
        match load(path, load_args).and_then(|rules| compile(&rules).map(|p| (rules, p))) {
            Ok((rules, program)) => {
                let skipped = rules.skipped().len();
                let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
                outln!("{}: ok, {} mappings ({} active){skipped}", path.display(), rules.len(), program.len());
            }
            Err(message) => {
                ok = false;
                outln!("{message}");
            }
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::from(INVALID) }
}

fn compile(rules: &RuleSet) -> Result<Program, String> {
    Program::compile(rules).map_err(|e| format!("error: {e}"))
}

fn eval(mappings: &Path, user: &Path, load_args: &LoadArgs) -> ExitCode {
    let program = match load(mappings, load_args).and_then(|rules| compile(&rules)) {
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
            outln!("{}", Object(vec![("roles", json!(resolution.roles)), ("mappings", json!(resolution.mappings))]));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("role resolution failed: {e}"), 1),
    }
}

fn disasm(mappings: &Path, load_args: &LoadArgs) -> ExitCode {
    match load(mappings, load_args).and_then(|rules| compile(&rules)) {
        Ok(program) => {
            out!("{program}");
            ExitCode::SUCCESS
        }
        Err(message) => fail(&message, INVALID),
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(code)
}

struct AuthRequest {
    token: Option<String>,
    token_file: Option<PathBuf>,
    header: Vec<String>,
    client_secret: Option<String>,
    now: Option<i64>,
}

fn auth(
    realms: &Path,
    secrets: Option<&Path>,
    mappings: &Path,
    request: &AuthRequest,
    load_args: &LoadArgs,
) -> ExitCode {
    let program = match load(mappings, load_args).and_then(|rules| compile(&rules)) {
        Ok(program) => std::sync::Arc::new(program),
        Err(message) => return fail(&message, INVALID),
    };
    let settings = read(realms).and_then(|yaml| {
        let secrets = secrets.map(read).transpose()?;
        let base = realms.parent().unwrap_or(Path::new("."));
        settings::parse_yaml(&yaml, secrets.as_deref(), base)
            .map_err(|e| e.iter().map(|e| format!("{}: error: {e}", realms.display())).collect::<Vec<_>>().join("\n"))
    });
    let settings = match settings {
        Ok(settings) => settings,
        Err(message) => return fail(&message, INVALID),
    };
    for warning in &settings.warnings {
        eprintln!("{}: warning: {warning}", realms.display());
    }
    let chain = match Realms::new(&settings.realms, program) {
        Ok(chain) => chain,
        Err(e) => return fail(&format!("{}: error: {e}", realms.display()), INVALID),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    let token = match (&request.token, &request.token_file) {
        (Some(token), _) => Some(token.trim().to_owned()),
        (None, Some(path)) => match read(path) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(message) => return fail(&message, INVALID),
        },
        (None, None) => None,
    };
    if let Some(token) = token {
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    for line in &request.header {
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                headers.push((name.trim().to_owned(), value.trim_start().to_owned()));
            }
            _ => return fail(&format!("invalid header `{line}`: expected `Name: value`"), INVALID),
        }
    }
    if let Some(secret) = &request.client_secret {
        headers.push(("ES-Client-Authentication".into(), format!("SharedSecret {secret}")));
    }
    let now = match request.now {
        Some(secs) if secs >= 0 => UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()),
        Some(secs) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()),
        None => SystemTime::now(),
    };
    match chain.authenticate(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), now) {
        Ok(user) => {
            let mut groups = user.groups.clone();
            groups.sort_unstable();
            groups.dedup();
            let metadata: std::collections::BTreeMap<_, _> = user.metadata.iter().collect();
            let out = Object(vec![
                ("realm", json!(user.realm)),
                ("principal", json!(user.principal)),
                ("groups", json!(groups)),
                ("dn", json!(user.dn)),
                ("email", json!(user.email)),
                ("full_name", json!(user.full_name)),
                ("metadata", json!(metadata)),
                ("roles", json!(user.roles)),
            ]);
            outln!("{out}");
            ExitCode::SUCCESS
        }
        Err(rejection) => {
            let error = Object(vec![
                ("realm", json!(rejection.realm())),
                ("stage", json!(rejection.stage().as_str())),
                ("reason", json!(rejection.reason())),
            ]);
            outln!("{{\"error\":{error}}}");
            for other in rejection.others() {
                eprintln!("also rejected: {other}");
            }
            ExitCode::from(1)
        }
    }
}

fn bench(sizes: &[usize], json: bool, scaling: bool) -> ExitCode {
    let mut rows = Vec::new();
    if !json {
        outln!("{}", bench::Row::HEADER);
    }
    for &n in sizes {
        match bench::measure(n, scaling) {
            Ok(row) => {
                if !json {
                    outln!("{}", row.to_line());
                }
                rows.push(row.to_json().to_string());
            }
            Err(message) => return fail(&format!("workload of {n} mappings: {message}"), 1),
        }
    }
    if json {
        outln!("[{}]", rows.join(","));
    }
    ExitCode::SUCCESS
}

fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // 128 + SIGPIPE, the status a shell reports for a tool the pipe killed.
            std::process::exit(141);
        }
        eprintln!("cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// A JSON object written with its members in the order given (a
/// `serde_json::Map` holds them sorted).
pub(crate) struct Object<'a>(pub(crate) Vec<(&'a str, Value)>);

impl fmt::Display for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (key, value)) in self.0.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma}{}:{value}", Value::from(*key))?;
        }
        f.write_str("}")
    }
}
