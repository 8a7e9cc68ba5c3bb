//! `queue restart --edit-prompt`: the prompt in `$VISUAL` (else `$EDITOR`,
//! else `vi`), as git does it: a private temporary file, the editor run
//! through `sh` so `EDITOR="code -w"` works, the file read back.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use super::CliError;

/// The text after the user edited it; refuses an empty result.
pub fn edit(original: &str) -> Result<String, CliError> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string());
    let path = std::env::temp_dir().join(format!("agentgate-prompt-{}.md", nanoid::nanoid!(10)));
    let failed = |e: std::io::Error| {
        CliError::Failed(format!(
            "cannot write {} for the editor: {e}",
            path.display()
        ))
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(failed)?;
    f.write_all(original.as_bytes()).map_err(failed)?;
    drop(f);
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status();
    let text = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            return Err(CliError::Failed(format!(
                "the editor ({editor}) exited with {s}; nothing was restarted"
            )));
        }
        Err(e) => {
            return Err(CliError::Failed(format!(
                "cannot run the editor ({editor}): {e}; set VISUAL or EDITOR"
            )));
        }
    }
    let text =
        text.map_err(|e| CliError::Failed(format!("cannot read back the edited prompt: {e}")))?;
    let mut text = String::from_utf8(text)
        .map_err(|_| CliError::Failed("the edited prompt is not UTF-8 text".into()))?;
    // Editors end the file with a newline the original may not have had.
    if !original.ends_with('\n') && text.ends_with('\n') {
        text.pop();
    }
    if text.trim().is_empty() {
        return Err(CliError::Failed(
            "the edited prompt is empty; nothing was restarted".into(),
        ));
    }
    Ok(text)
}
