//! `kuroko secret`: passwords and tokens for scenarios (`secret::get`), set without ever being
//! on a command line, kept in the ledger only as ciphertexts for the PCs registered to read
//! them (see `crate::vault`), listed by name only.

use std::io::{BufRead, IsTerminal, Read};

use clap::Subcommand;

use crate::error::{Error, Result};
use crate::ledger::{self, Address, Recipient, Registered, SecretRecord, Store, process};
use crate::text_table::table;
use crate::vault;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    ledger: super::LedgerArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Set a secret for every PC registered to read secrets. The value is asked for without
    /// showing it (twice, on a terminal), or read as one line from standard input; never from
    /// the command line. On a single PC (a ledger file) this PC is registered first.
    Set {
        /// Letters (Japanese too), digits, '_', '-' and '.', e.g. 住基システム.password.
        name: String,
    },
    /// The secrets (names, who set them and when, which PCs can read them) and the PCs
    /// registered to read secrets. Never values.
    List,
    /// Remove a secret.
    Remove { name: String },
    /// Register this PC to read secrets, making its key if it has none: what `kuroko agent`
    /// does at its first start, for a PC that runs scenarios otherwise (the launcher on a shared
    /// ledger). Secrets set before must be set again for it.
    Register {
        /// The PC's name in the ledger [default: $KUROKO_MACHINE or the host name].
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Take a PC off the list of those that can read secrets (a robot retired or replaced).
    /// Secrets set before stay readable by it until they are set again.
    Forget { machine: String },
}

pub fn execute(args: Args) -> Result<i32> {
    let address = args.ledger.address();
    let mut store = ledger::open(&address)?;
    match args.command {
        Command::Set { name } => set(&address, &mut *store, &name),
        Command::List => list(&*store),
        Command::Remove { name } => {
            vault::check_name(&name).map_err(Error::usage)?;
            if !store.remove_secret(&name)? {
                return Err(Error::usage(format!(
                    "there is no secret {name:?} in {}",
                    store.location()
                )));
            }
            println!("secret {name} removed");
            Ok(crate::exit::SUCCEEDED)
        }
        Command::Register { name } => {
            let machine = match name {
                Some(n) if n.trim().is_empty() || n.chars().any(char::is_control) => {
                    return Err(Error::usage("--name must not be empty"));
                }
                Some(n) => n.trim().to_string(),
                None => process::machine_name(),
            };
            match register_this_pc(&mut *store, &machine)? {
                Some(line) => println!("{line}"),
                None => println!("{machine} is already registered to read secrets"),
            }
            Ok(crate::exit::SUCCEEDED)
        }
        Command::Forget { machine } => {
            if !store.remove_recipient(&machine)? {
                return Err(Error::usage(format!(
                    "no PC {machine:?} is registered to read secrets in {}",
                    store.location()
                )));
            }
            println!(
                "{machine} removed: secrets set from now on are not for it; set the secrets it \
                 could read again (kuroko secret set NAME) so their old copies go"
            );
            Ok(crate::exit::SUCCEEDED)
        }
    }
}

/// Makes this PC's key if it has none and registers it under its machine name: what
/// `kuroko agent` does at start, and `kuroko secret set` on a single PC. Returns a line to show
/// when something changed.
pub fn register_this_pc(store: &mut dyn Store, machine: &str) -> Result<Option<String>> {
    let (identity, created) = vault::load_or_create().map_err(|message| Error::Refused {
        message: format!("cannot make this PC's key for secrets: {message}"),
    })?;
    let registered = store.add_recipient(machine, &identity.public_key(), &ledger::now())?;
    Ok(match registered {
        Registered::Unchanged if !created => None,
        Registered::Unchanged | Registered::Added => Some(format!(
            "{machine} is registered to read secrets (its key: {})",
            identity.path().display()
        )),
        Registered::KeyChanged => Some(format!(
            "{machine} has a new key for secrets ({}): secrets set before must be set again \
             (kuroko secret set NAME) before it can read them",
            identity.path().display()
        )),
    })
}

fn set(address: &Address, store: &mut dyn Store, name: &str) -> Result<i32> {
    vault::check_name(name).map_err(Error::usage)?;
    if !address.is_shared() {
        let machine = process::machine_name();
        if let Some(line) = register_this_pc(store, &machine)? {
            eprintln!("{line}");
        }
    }
    let recipients = store.recipients()?;
    if recipients.is_empty() {
        return Err(Error::Refused {
            message: format!(
                "no PC is registered to read secrets in {}: start `kuroko agent` once on each \
                 robot PC (it registers the PC), then set the secret; nothing was set",
                store.location()
            ),
        });
    }
    let value = read_value(name)?;
    vault::check_value(&value).map_err(|message| Error::Refused { message })?;
    let keys: Vec<&str> = recipients.iter().map(|r| r.public_key.as_str()).collect();
    let ciphertext = vault::encrypt(&value, &keys).map_err(|message| Error::Refused { message })?;
    drop(value);
    store.set_secret(&SecretRecord {
        name: name.to_string(),
        ciphertext,
        set_by: format!("{}@{}", process::os_user(), process::machine_name()),
        set_at: ledger::now(),
        recipients: recipients.clone(),
    })?;
    println!(
        "secret {name} set; readable by {} PC(s): {}",
        recipients.len(),
        machines(&recipients)
    );
    Ok(crate::exit::SUCCEEDED)
}

/// The value: asked twice without echo on a terminal, else one line of standard input.
fn read_value(name: &str) -> Result<String> {
    let refused = |message: String| Error::Refused { message };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("value of {name} (not shown): "))
            .map_err(|e| refused(format!("cannot read the value from the terminal: {e}")))?;
        if first.is_empty() {
            return Err(refused("the value is empty; nothing was set".into()));
        }
        let again = rpassword::prompt_password("again, to be sure: ")
            .map_err(|e| refused(format!("cannot read the value from the terminal: {e}")))?;
        if first != again {
            return Err(refused(
                "the two values differ; nothing was set (try again)".into(),
            ));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(vault::MAX_VALUE_BYTES as u64 + 2)
        .read_line(&mut line)
        .map_err(|e| refused(format!("cannot read the value from standard input: {e}")))?;
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(line)
}

fn machines(list: &[Recipient]) -> String {
    list.iter()
        .map(|r| r.machine.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(store: &dyn Store) -> Result<i32> {
    let registered = store.recipients()?;
    let secrets = store.secrets()?;
    if secrets.is_empty() {
        eprintln!("no secrets in {}", store.location());
    } else {
        let rows: Vec<Vec<String>> = secrets
            .iter()
            .map(|s| {
                // Registered PCs whose current key the secret was not encrypted to.
                let missing: Vec<&str> = registered
                    .iter()
                    .filter(|r| !s.recipients.iter().any(|k| k.public_key == r.public_key))
                    .map(|r| r.machine.as_str())
                    .collect();
                vec![
                    s.name.clone(),
                    s.set_by.clone(),
                    s.set_at.clone(),
                    machines(&s.recipients),
                    if missing.is_empty() {
                        "-".into()
                    } else {
                        format!("{} (set it again)", missing.join(", "))
                    },
                ]
            })
            .collect();
        let header = [
            "name",
            "set by",
            "set at",
            "readable by",
            "not yet readable by",
        ]
        .map(String::from);
        print!("{}", table(&header, &rows, &[]));
    }
    if registered.is_empty() {
        println!("no PC is registered to read secrets");
    } else {
        println!(
            "registered to read secrets: {}",
            registered
                .iter()
                .map(|r| format!("{} (since {})", r.machine, r.added_at))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(crate::exit::SUCCEEDED)
}
