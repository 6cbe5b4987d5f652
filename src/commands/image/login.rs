//! `login` and `logout`: check credentials against a registry, store or erase them in the
//! Docker config file.

use std::io::{self, BufRead, IsTerminal, Write};

use myvol::image::credentials::{self, AuthConfig, DockerConfig, INDEX_SERVER, Stored};
use myvol::image::registry::{Client, RegistryOptions};

use super::fail;
use crate::cli::image::*;
use crate::commands::{Io, Result};

/// Read a line from the terminal, with echo off for a password.
fn prompt(label: &str, secret: bool) -> io::Result<String> {
    let mut err = io::stderr();
    write!(err, "{label}")?;
    err.flush()?;
    let stdin = rustix::stdio::stdin();
    let saved = if secret { rustix::termios::tcgetattr(stdin).ok() } else { None };
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        let _ = rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let r = io::stdin().lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, t);
        writeln!(err)?;
    }
    r?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

pub fn login(a: LoginArgs, io: &mut Io<'_>) -> Result {
    if a.password_stdin {
        if a.password.is_some() {
            return Err(fail("conflicting options: cannot specify both --password and --password-stdin"));
        }
        if a.username.is_none() {
            return Err(fail("the --password-stdin option requires --username to be set"));
        }
    }
    if a.username.as_deref() == Some("") {
        return Err(fail("username is empty"));
    }
    if a.password.as_deref() == Some("") {
        return Err(fail("password is empty"));
    }
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let mut password = a.password.clone().unwrap_or_default();
    if a.password_stdin {
        let mut s = String::new();
        io.input.read_to_string(&mut s)?;
        password = s.strip_suffix('\n').unwrap_or(&s).to_owned();
        password = password.strip_suffix('\r').unwrap_or(&password).to_owned();
    }
    let server = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => credentials::convert_to_hostname(s),
        _ => INDEX_SERVER.to_owned(),
    };
    let mut username = a.username.clone().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        if !io::stdin().is_terminal() {
            return Err(fail("Cannot perform an interactive login from a non TTY device"));
        }
        if username.is_empty() {
            username = prompt("Username: ", false)?;
            if username.is_empty() {
                return Err(fail("Error: Non-null Username Required"));
            }
        }
        if password.is_empty() {
            password = prompt("Password: ", true)?;
            if password.is_empty() {
                return Err(fail("Error: Password Required"));
            }
        }
    }
    let auth = AuthConfig { username, password, identity_token: None, server_address: server.clone() };
    let registry = if server == INDEX_SERVER { "docker.io".to_owned() } else { server.clone() };
    let client = Client::for_login(&registry, &RegistryOptions::from_env(), auth.clone());
    let mut conn = client.conn().map_err(fail)?;
    client.check_login(&mut conn).map_err(fail)?;
    let mut config = DockerConfig::load().map_err(fail)?;
    if let Stored::File(path) = config.store(&auth).map_err(fail)? {
        eprintln!(
            "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
            path.display()
        );
    }
    writeln!(io.out, "Login Succeeded")?;
    Ok(())
}

pub fn logout(a: LogoutArgs, io: &mut Io<'_>) -> Result {
    let (key, shown) = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => (s.to_owned(), credentials::convert_to_hostname(s)),
        _ => (INDEX_SERVER.to_owned(), INDEX_SERVER.to_owned()),
    };
    writeln!(io.out, "Removing login credentials for {shown}")?;
    let mut config = DockerConfig::load().map_err(fail)?;
    if let Err(e) = config.erase(&key) {
        eprintln!("WARNING: could not erase credentials:\n{key}: {e}");
    }
    Ok(())
}
