//! The table the runner prints and writes into BENCHMARKS.md, and the run's context (date,
//! machine, commit).

use std::path::Path;

/// Whether a figure met its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    NotMeasured,
}

impl Verdict {
    pub fn of(met: bool) -> Self {
        if met { Verdict::Met } else { Verdict::Missed }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: String,
    pub goal: String,
    pub verdict: Verdict,
    /// How it was measured, or why it missed / was not measured; printed under the table.
    pub note: String,
}

impl Figure {
    pub fn not_measured(name: &str, goal: &str, why: String) -> Self {
        Figure {
            name: name.to_owned(),
            ours: "not measured".into(),
            baseline: "—".into(),
            ratio: "—".into(),
            goal: goal.to_owned(),
            verdict: Verdict::NotMeasured,
            note: why,
        }
    }
}

/// Where and when the figures were taken.
#[derive(Debug, Clone)]
pub struct Context {
    pub date: String,
    pub machine: String,
    pub commit: String,
    pub command: String,
}

impl Context {
    pub fn now(command: String) -> Self {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| kib_field(&m, "MemTotal:"))
            .map_or_else(
                || "unknown".into(),
                |kib| format!("{:.1} GiB", kib as f64 / 1048576.0),
            );
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        };
        let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        Context {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine: format!("{cpu}, {cores} cores (nproc), {memory} memory"),
            commit: if dirty {
                format!("{head} (dirty)")
            } else {
                head
            },
            command,
        }
    }
}

/// A `Name:   1234 kB` field of a /proc file, in KiB.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The markdown table, then a note per figure.
pub fn render(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| figure | ours | baseline (same run) | ratio | goal | verdict |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell(&f.name),
            cell(&f.ours),
            cell(&f.baseline),
            cell(&f.ratio),
            cell(&f.goal),
            f.verdict.label()
        ));
    }
    let notes: Vec<&Figure> = figures.iter().filter(|f| !f.note.is_empty()).collect();
    if !notes.is_empty() {
        out.push_str("\nNotes.\n");
        for f in notes {
            out.push_str(&format!("- {}: {}\n", f.name, f.note));
        }
    }
    out
}

/// A table cell: pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

const SECTION: &str = "## Bench runner";

/// The "Bench runner" section: the run's context and the table.
pub fn section(ctx: &Context, figures: &[Figure], preface: &str) -> String {
    format!(
        "{SECTION}\n\n{preface}\n\n- Command: `{}`\n- Date: {}\n- Machine: {}\n- Commit: `{}`\n\n{}",
        ctx.command,
        ctx.date,
        ctx.machine,
        ctx.commit,
        render(figures)
    )
}

/// `document` with its "Bench runner" section replaced by `section` (or `section` appended),
/// every other section kept as it was.
pub fn replace_section(document: &str, section: &str) -> String {
    let section = section.trim_end();
    let Some(start) = document.find(&format!("\n{SECTION}\n")).map(|i| i + 1) else {
        return format!("{}\n\n{section}\n", document.trim_end());
    };
    let rest = &document[start + SECTION.len()..];
    let end = rest
        .find("\n## ")
        .map_or(document.len(), |i| start + SECTION.len() + i + 1);
    let after = document[end..].trim_start_matches('\n');
    let mut out = format!("{}{section}\n", &document[..start]);
    if !after.is_empty() {
        out.push('\n');
        out.push_str(after);
    }
    out
}

pub fn write_into(path: &Path, section: &str) -> std::io::Result<()> {
    let document = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    std::fs::write(path, replace_section(&document, section))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, verdict: Verdict, note: &str) -> Figure {
        Figure {
            name: name.into(),
            ours: "1 | 2".into(),
            baseline: "b".into(),
            ratio: "1.00×".into(),
            goal: "≤ 2".into(),
            verdict,
            note: note.into(),
        }
    }

    #[test]
    fn the_table_has_a_row_per_figure_and_notes_below() {
        let text = render(&[
            figure("a", Verdict::Met, ""),
            figure("b", Verdict::Missed, "the feed query scans"),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2], "| a | 1 \\| 2 | b | 1.00× | ≤ 2 | met |",
            "pipes escaped"
        );
        assert!(lines[3].ends_with("| **missed** |"), "a miss stands out");
        assert!(
            text.contains("- b: the feed query scans"),
            "the reason is printed"
        );
        assert!(!text.contains("- a:"), "no empty notes");
    }

    #[test]
    fn the_section_replaces_only_itself() {
        let doc = "# Benchmarks\n\nintro\n\n## Domain\n\nold domain\n\n## Bench runner\n\nold run\n\n## Later\n\nkept\n";
        let out = replace_section(doc, "## Bench runner\n\nnew run\n");
        assert_eq!(
            out,
            "# Benchmarks\n\nintro\n\n## Domain\n\nold domain\n\n## Bench runner\n\nnew run\n\n## Later\n\nkept\n"
        );
        // Again: idempotent.
        assert_eq!(replace_section(&out, "## Bench runner\n\nnew run\n"), out);
    }

    #[test]
    fn a_missing_section_is_appended() {
        let out = replace_section("# Benchmarks\n\n## Domain\n\nx\n", "## Bench runner\n\ny\n");
        assert_eq!(
            out,
            "# Benchmarks\n\n## Domain\n\nx\n\n## Bench runner\n\ny\n"
        );
    }

    #[test]
    fn proc_fields_are_read_in_kib() {
        let status = "Name:\tcountersign\nVmHWM:\t   51234 kB\nVmRSS:\t  40000 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(51234));
        assert_eq!(kib_field(status, "Pss:"), None);
    }
}
