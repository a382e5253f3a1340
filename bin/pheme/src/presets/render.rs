//! Presets as JSON, YAML or TOML text, and back as generic values for comparison.

use std::path::Path;

use clap::ValueEnum;
use pheme_scoring::ScorePreset;
use serde_json::Value;

use crate::error::CliError;

/// Output format of `pheme presets generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON (the default).
    Json,
    /// YAML, as in `presets/`.
    Yaml,
    /// TOML.
    Toml,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Toml => "toml",
        }
    }

    /// The format a file name suggests.
    pub fn of_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// The format's line-comment prefix, if it has comments.
    fn comment(self) -> Option<&'static str> {
        match self {
            Format::Json => None,
            Format::Yaml | Format::Toml => Some("# "),
        }
    }
}

/// Renders a preset; `header` lines become comments where the format has them.
pub fn render(preset: &ScorePreset, format: Format, header: &[String]) -> Result<String, CliError> {
    let err = |reason: String| CliError::Render {
        format: format.name(),
        reason,
    };
    let body = match format {
        Format::Json => {
            serde_json::to_string_pretty(preset).map_err(|e| err(e.to_string()))? + "\n"
        }
        Format::Yaml => serde_yaml_ng::to_string(preset).map_err(|e| err(e.to_string()))?,
        Format::Toml => toml::to_string_pretty(preset).map_err(|e| err(e.to_string()))?,
    };
    let mut out = String::new();
    if let Some(prefix) = format.comment() {
        for line in header {
            out.push_str(prefix);
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&body);
    Ok(out)
}

/// Parses preset text of a format into a generic value.
pub fn parse(text: &str, format: Format) -> Result<Value, String> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Format::Yaml => serde_yaml_ng::from_str(text).map_err(|e| e.to_string()),
        Format::Toml => toml::from_str(text).map_err(|e| e.to_string()),
    }
}

/// Preset files larger than this are refused (a preset is about 150 KB).
pub const MAX_PRESET_FILE: u64 = 64 * 1024 * 1024;

/// Reads a text file of at most [`MAX_PRESET_FILE`] bytes.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    use std::io::Read;
    let io = |source| CliError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_PRESET_FILE + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_PRESET_FILE {
        return Err(CliError::TooLarge {
            path: path.to_owned(),
            limit: MAX_PRESET_FILE,
        });
    }
    Ok(text)
}

/// Reads a preset file (format from its extension; YAML when it has none).
pub fn read_file(path: &Path) -> Result<Value, CliError> {
    let text = read_text(path)?;
    parse(&text, Format::of_path(path).unwrap_or(Format::Yaml)).map_err(|reason| {
        CliError::BadPresetFile {
            path: path.to_owned(),
            reason: one_line(&reason),
        }
    })
}

/// Parser messages can span lines; the CLI promises one.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
