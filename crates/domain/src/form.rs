//! Form schemas, form values and their validation, and computed fields.
//!
//! A [`FormSchema`] is data (a template's JSON). Form data arrives as raw JSON, because the
//! point of validation is to report *every* problem at once — a wrong type in one field must
//! not hide a missing value in another, which typed deserialisation would. [`evaluate`] turns
//! raw data into typed values, computed values and a list of [`FieldError`]s; [`validate`] is
//! the same with "no errors" as the success condition. The client calls them while drafting,
//! the server before accepting a submission: one code path (requirement B4).
//!
//! Numbers and money are `rust_decimal::Decimal` and travel as JSON strings (`"1234.50"`); a
//! JSON integer is accepted for a number, a JSON float never is, since it may already have lost
//! the value the user typed.
//!
//! # Validated forms borrow from their data
//!
//! A [`ValidForm<'a>`](ValidForm) (and the [`Value`]s, [`Table`], [`Row`]s, [`Files`] and
//! [`AttachmentRef`]s in it) borrows its texts — descriptions, choices, file names, content
//! types, a table's column keys — from the JSON it was read from, as `Cow::Borrowed`, so
//! accepting a 200-line claim copies none of them. Keep the JSON alive while using the form,
//! or call [`ValidForm::into_owned`] (also on [`Evaluation`], [`Value`] and the rest) to keep
//! it longer. A form read back from JSON owns its texts. None of this changes the JSON of a
//! form: it is the same as when every text was a `String`.
//!
//! A table's rows share one vector of cells ([`Table::rows`] yields each as a [`Row`] with
//! `get`, `iter` and `len`); attachments are a [`Files`], which dereferences to a slice of
//! [`AttachmentRef`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::calendar::{CalendarError, HalfDay, WorkingCalendar};
use crate::condition::{Condition, ConditionInput};
use crate::messages::MessageKey;

/// Largest magnitude of any amount or number: ±10^12.
pub const AMOUNT_LIMIT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// Money is kept to the cent; more decimals are an input error, not something to round away.
pub const MONEY_DECIMALS: u32 = 2;

const MAX_FIELDS: usize = 200;
const MAX_KEY_LEN: usize = 64;
const MAX_TEXT: u32 = 10_000;
const MAX_LONG_TEXT: u32 = 100_000;
const MAX_OPTIONS: usize = 500;
const MAX_ROWS: u32 = 10_000;
const MAX_FILES: u32 = 100;
const MAX_PATTERN_LEN: usize = 500;
const MAX_FILE_NAME: usize = 255;
const MAX_NUMBER_DECIMALS: u32 = 6;
/// Dates far outside any office's business are typos; refusing them keeps arithmetic sane.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

/// A text in both catalogue languages.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Label {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

/// A form: its input fields, its computed fields and its rules across fields.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSchema {
    pub fields: Vec<FieldDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computed: Vec<ComputedField>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<CrossFieldRule>,
}

/// One input field.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    pub label: Label,
    #[serde(default)]
    pub required: bool,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Label>,
}

fn default_text_max() -> u32 {
    200
}
fn default_long_text_max() -> u32 {
    5_000
}
fn default_max_rows() -> u32 {
    500
}
fn default_max_files() -> u32 {
    20
}
fn default_max_file_size() -> u64 {
    50 * 1024 * 1024
}

/// A field's kind and the rules of that kind.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldType {
    /// One line of text; `pattern` must match the whole value.
    Text {
        #[serde(default)]
        min_length: u32,
        #[serde(default = "default_text_max")]
        max_length: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    LongText {
        #[serde(default)]
        min_length: u32,
        #[serde(default = "default_long_text_max")]
        max_length: u32,
    },
    Number {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "specta", specta(type = Option<String>))]
        min: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "specta", specta(type = Option<String>))]
        max: Option<Decimal>,
        /// Decimal places allowed; 0 means whole numbers.
        #[serde(default)]
        decimals: u32,
    },
    Money {
        /// ISO 4217 code every value of this field must carry.
        currency: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "specta", specta(type = Option<String>))]
        min: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "specta", specta(type = Option<String>))]
        max: Option<Decimal>,
    },
    Date {},
    DateRange {
        /// Whether the start and end may be a half day (leave).
        #[serde(default)]
        half_days: bool,
        /// Longest allowed span in calendar days, counting both ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_days: Option<u32>,
    },
    Datetime {},
    SingleSelect {
        options: Vec<SelectOption>,
    },
    MultiSelect {
        options: Vec<SelectOption>,
        #[serde(default)]
        min_selected: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_selected: Option<u32>,
    },
    Person {},
    Department {},
    /// References to uploaded files (the bytes live elsewhere).
    Attachments {
        #[serde(default)]
        min_count: u32,
        #[serde(default = "default_max_files")]
        max_count: u32,
        #[serde(default = "default_max_file_size")]
        #[cfg_attr(feature = "specta", specta(type = f64))]
        max_size_bytes: u64,
        /// Accepted content types (`application/pdf`, `image/*`); empty accepts any.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        accept: Vec<String>,
    },
    /// A detail table of rows (reimbursement lines, purchase items). Tables do not nest.
    Table {
        columns: Vec<FieldDef>,
        #[serde(default)]
        min_rows: u32,
        #[serde(default = "default_max_rows")]
        max_rows: u32,
    },
}

impl FieldType {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::LongText { .. } => "long_text",
            Self::Number { .. } => "number",
            Self::Money { .. } => "money",
            Self::Date {} => "date",
            Self::DateRange { .. } => "date_range",
            Self::Datetime {} => "datetime",
            Self::SingleSelect { .. } => "single_select",
            Self::MultiSelect { .. } => "multi_select",
            Self::Person {} => "person",
            Self::Department {} => "department",
            Self::Attachments { .. } => "attachments",
            Self::Table { .. } => "table",
        }
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    pub key: String,
    pub label: Label,
}

/// A value computed from other fields; read-only in the form.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputedField {
    pub key: String,
    pub label: Label,
    pub formula: Formula,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Formula {
    /// The total of a money or number column of a table.
    Sum { table: String, column: String },
    /// The total over rows of the product of columns (quantity × unit price). A money
    /// product is rounded to the cent per row, half away from zero, as an invoice line is.
    SumProduct { table: String, factors: Vec<String> },
    /// Working days in a date range on the working-day calendar, in half days.
    WorkingDays { range: String },
}

/// A rule across fields.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossFieldRule {
    /// `field` (a date or datetime) is not before `other` (of the same kind).
    NotBefore { field: String, other: String },
    /// `field` must be filled in when `when` holds.
    RequiredWhen { field: String, when: Condition },
}

/// A money amount with its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

/// An ISO 4217 currency code. Three bytes inline rather than a `String`, since every money
/// cell of every table row carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const CNY: Self = Self(*b"CNY");

    /// A currency from its code: three upper-case ASCII letters.
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Some(Self([a, b, c])),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::new(&code)
            .ok_or_else(|| serde::de::Error::custom("currency is a 3-letter ISO 4217 code"))
    }
}

/// A date range, with half days for leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[serde(default = "half_am")]
    pub start_half: HalfDay,
    #[serde(default = "half_pm")]
    pub end_half: HalfDay,
}

fn half_am() -> HalfDay {
    HalfDay::Am
}
fn half_pm() -> HalfDay {
    HalfDay::Pm
}

/// A reference to an uploaded file. Its texts borrow from the JSON it was read from, like
/// every text of a [`ValidForm`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef<'a> {
    pub id: Uuid,
    pub name: Cow<'a, str>,
    pub size: u64,
    pub content_type: Cow<'a, str>,
}

impl AttachmentRef<'_> {
    /// The same reference owning its texts.
    pub fn into_owned(self) -> AttachmentRef<'static> {
        AttachmentRef {
            id: self.id,
            name: Cow::Owned(self.name.into_owned()),
            size: self.size,
            content_type: Cow::Owned(self.content_type.into_owned()),
        }
    }
}

/// A typed, validated value. Texts borrow from the form data they were read from (`'a`), so
/// validating a 200-line claim copies no descriptions, categories or file names; a value
/// deserialised from JSON owns its texts. [`Value::into_owned`] detaches a value from its
/// data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    Number(Decimal),
    Money(Money),
    Date(NaiveDate),
    DateRange(DateRange),
    Datetime(DateTime<Utc>),
    Choice(Cow<'a, str>),
    Choices(Vec<Cow<'a, str>>),
    Person(Uuid),
    Department(Uuid),
    Attachments(Files<'a>),
    Table(Table<'a>),
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl Value<'_> {
    /// The numeric value of a number or the amount of money.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Money(m) => Some(m.amount),
            _ => None,
        }
    }

    /// The same value owning its texts, to keep beyond the data it was read from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Self::Text(t) => Value::Text(owned(t)),
            Self::Number(n) => Value::Number(n),
            Self::Money(m) => Value::Money(m),
            Self::Date(d) => Value::Date(d),
            Self::DateRange(r) => Value::DateRange(r),
            Self::Datetime(t) => Value::Datetime(t),
            Self::Choice(c) => Value::Choice(owned(c)),
            Self::Choices(c) => Value::Choices(c.into_iter().map(owned).collect()),
            Self::Person(p) => Value::Person(p),
            Self::Department(d) => Value::Department(d),
            Self::Attachments(files) => Value::Attachments(files.into_owned()),
            Self::Table(table) => Value::Table(table.into_owned()),
        }
    }
}

/// The files of an attachments field: a slice of [`AttachmentRef`]s (it dereferences to
/// one). A single file, the usual case, is kept inline rather than in a vector of its own, so
/// a 200-line claim with an invoice per line does not allocate 200 one-element vectors. Its
/// JSON is a list of references.
#[derive(Clone, Default)]
pub struct Files<'a>(FileList<'a>);

#[derive(Clone)]
enum FileList<'a> {
    One(AttachmentRef<'a>),
    Many(Vec<AttachmentRef<'a>>),
}

impl Default for FileList<'_> {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl<'a> Files<'a> {
    pub fn as_slice(&self) -> &[AttachmentRef<'a>] {
        match &self.0 {
            FileList::One(file) => std::slice::from_ref(file),
            FileList::Many(files) => files,
        }
    }

    pub fn into_vec(self) -> Vec<AttachmentRef<'a>> {
        match self.0 {
            FileList::One(file) => vec![file],
            FileList::Many(files) => files,
        }
    }

    fn push(&mut self, file: AttachmentRef<'a>) {
        self.0 = match std::mem::take(&mut self.0) {
            FileList::Many(files) if files.is_empty() => FileList::One(file),
            FileList::Many(mut files) => {
                files.push(file);
                FileList::Many(files)
            }
            FileList::One(first) => FileList::Many(vec![first, file]),
        };
    }

    /// The same files owning their texts.
    pub fn into_owned(self) -> Files<'static> {
        match self.0 {
            FileList::One(file) => Files(FileList::One(file.into_owned())),
            FileList::Many(files) => files.into_iter().map(AttachmentRef::into_owned).collect(),
        }
    }
}

impl<'a> std::ops::Deref for Files<'a> {
    type Target = [AttachmentRef<'a>];

    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl<'a> From<Vec<AttachmentRef<'a>>> for Files<'a> {
    fn from(mut files: Vec<AttachmentRef<'a>>) -> Self {
        match files.pop() {
            Some(file) if files.is_empty() => Self(FileList::One(file)),
            Some(file) => {
                files.push(file);
                Self(FileList::Many(files))
            }
            None => Self::default(),
        }
    }
}

impl<'a> FromIterator<AttachmentRef<'a>> for Files<'a> {
    fn from_iter<I: IntoIterator<Item = AttachmentRef<'a>>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        match (iter.next(), iter.next()) {
            (None, _) => Self::default(),
            (Some(file), None) => Self(FileList::One(file)),
            (Some(first), Some(second)) => {
                let mut files = vec![first, second];
                files.extend(iter);
                Self(FileList::Many(files))
            }
        }
    }
}

impl<'f, 'a> IntoIterator for &'f Files<'a> {
    type Item = &'f AttachmentRef<'a>;
    type IntoIter = std::slice::Iter<'f, AttachmentRef<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for Files<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Files<'_> {}

impl std::fmt::Debug for Files<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for Files<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

impl<'de, 'a> Deserialize<'de> for Files<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<AttachmentRef<'a>>::deserialize(deserializer).map(Self::from)
    }
}

/// The rows of a detail table. Every row's cells live in one vector, row after row, each
/// row's sorted by key (a 200-line claim makes one allocation for its cells, not 200);
/// [`Table::rows`] hands them out as [`Row`]s. Its JSON is a list of objects, one per row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table<'a> {
    cells: Vec<(Cow<'a, str>, Value<'a>)>,
    /// Where each row ends in `cells`.
    ends: Vec<usize>,
}

impl<'a> Table<'a> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn row(&self, index: usize) -> Option<Row<'_, 'a>> {
        (index < self.len()).then(|| self.row_at(index))
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_, 'a>> {
        (0..self.len()).map(|index| self.row_at(index))
    }

    /// Row `index`, which must exist.
    fn row_at(&self, index: usize) -> Row<'_, 'a> {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Row {
            cells: &self.cells[start..self.ends[index]],
        }
    }

    /// Appends a row from its cells in any order; a key given twice keeps its first value.
    pub fn push_row(&mut self, cells: impl IntoIterator<Item = (Cow<'a, str>, Value<'a>)>) {
        let mut row: Vec<_> = cells.into_iter().collect();
        row.sort_by(|a, b| a.0.cmp(&b.0));
        row.dedup_by(|later, earlier| later.0 == earlier.0);
        self.cells.extend(row);
        self.ends.push(self.cells.len());
    }

    /// The same table owning its keys and texts.
    pub fn into_owned(self) -> Table<'static> {
        Table {
            cells: self
                .cells
                .into_iter()
                .map(|(k, v)| (owned(k), v.into_owned()))
                .collect(),
            ends: self.ends,
        }
    }

    /// Room for `rows` rows of up to `columns` cells, within reason: a hostile form of
    /// thousands of empty rows should not reserve memory for every column of each.
    fn with_capacity(rows: usize, columns: usize) -> Self {
        const MAX_RESERVED_CELLS: usize = 1 << 14;
        Self {
            cells: Vec::with_capacity(rows.saturating_mul(columns).min(MAX_RESERVED_CELLS)),
            ends: Vec::with_capacity(rows),
        }
    }
}

impl Serialize for Table<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows())
    }
}

impl<'de, 'a> Deserialize<'de> for Table<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rows = Vec::<BTreeMap<String, Value<'a>>>::deserialize(deserializer)?;
        let mut table = Self::with_capacity(rows.len(), 0);
        for row in rows {
            // Already sorted and unique.
            table
                .cells
                .extend(row.into_iter().map(|(k, v)| (Cow::Owned(k), v)));
            table.ends.push(table.cells.len());
        }
        Ok(table)
    }
}

/// One row of a [`Table`]: its filled-in cells by column key, sorted by key. Its JSON form is
/// an object, like the row it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'t, 'a> {
    cells: &'t [(Cow<'a, str>, Value<'a>)],
}

impl<'t, 'a> Row<'t, 'a> {
    pub fn get(&self, key: &str) -> Option<&'t Value<'a>> {
        // A handful of cells is faster to scan (lengths first) than to bisect.
        if self.cells.len() <= 8 {
            return self.cells.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        }
        self.cells
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &self.cells[i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'t str, &'t Value<'a>)> {
        self.cells.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

impl Serialize for Row<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// A form whose every value passed validation, with its computed values. Its texts borrow
/// from the form data it was validated from (see [`Value`]); [`ValidForm::into_owned`] keeps
/// it beyond that data. Its JSON is the same either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ValidForm<'a> {
    pub values: BTreeMap<String, Value<'a>>,
    pub computed: BTreeMap<String, Value<'a>>,
}

impl<'a> ValidForm<'a> {
    /// An input or computed value by key.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.values.get(key).or_else(|| self.computed.get(key))
    }

    /// The same form owning its texts.
    pub fn into_owned(self) -> ValidForm<'static> {
        let own = |values: BTreeMap<String, Value<'a>>| {
            values
                .into_iter()
                .map(|(k, v)| (k, v.into_owned()))
                .collect()
        };
        ValidForm {
            values: own(self.values),
            computed: own(self.computed),
        }
    }
}

/// One problem with the form: where (`lines[3].amount`, rows counted from 0), what (a message
/// key the UI translates) and the parameters of the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldError {
    pub path: String,
    pub key: MessageKey,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl FieldError {
    pub fn new(path: impl Into<String>, key: MessageKey) -> Self {
        Self {
            path: path.into(),
            key,
            params: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    pub fn message(&self, locale: crate::messages::Locale) -> String {
        self.key.render(locale, &self.params)
    }
}

/// What drafting needs: every value that could be read, every computed value that could be
/// computed, and every error. Partial values let the client show a running total while other
/// fields are still wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Evaluation<'a> {
    pub form: ValidForm<'a>,
    pub errors: Vec<FieldError>,
}

impl Evaluation<'_> {
    /// The same evaluation owning its texts.
    pub fn into_owned(self) -> Evaluation<'static> {
        Evaluation {
            form: self.form.into_owned(),
            errors: self.errors,
        }
    }
}

/// Validates `data` against `schema`, returning the typed form or every error at once.
/// The calendar is needed for working-day computed fields (leave duration). The form's texts
/// borrow from `data`; call [`ValidForm::into_owned`] to keep it longer.
pub fn validate<'a>(
    schema: &FormSchema,
    data: &'a Json,
    calendar: &WorkingCalendar,
) -> Result<ValidForm<'a>, Vec<FieldError>> {
    let evaluation = evaluate(schema, data, calendar);
    if evaluation.errors.is_empty() {
        Ok(evaluation.form)
    } else {
        Err(evaluation.errors)
    }
}

/// Reads, checks and computes everything it can from `data`; see [`Evaluation`].
pub fn evaluate<'a>(
    schema: &FormSchema,
    data: &'a Json,
    calendar: &WorkingCalendar,
) -> Evaluation<'a> {
    let mut out = Evaluation::default();
    if let Err(problems) = schema.check_structure() {
        out.errors = problems
            .into_iter()
            .map(|p| FieldError::new(p.path.clone(), MessageKey::InvalidSchema).with("detail", p))
            .collect();
        return out;
    }
    let mut reader = Reader {
        errors: Vec::new(),
        patterns: Vec::new(),
    };
    if let Err(problem) = reader.compile_patterns(&schema.fields) {
        out.errors = vec![
            FieldError::new(problem.path.clone(), MessageKey::InvalidSchema)
                .with("detail", problem),
        ];
        return out;
    }
    let Some(object) = data.as_object() else {
        out.errors = vec![FieldError::new("", MessageKey::WrongType).with("expected", "object")];
        return out;
    };
    let values = &mut out.form.values;
    reader.read_object(
        &schema.fields,
        None,
        object,
        None,
        schema,
        |index, _, value| {
            if let Some(field) = schema.fields.get(index) {
                values.insert(field.key.clone(), value);
            }
        },
    );
    let mut errors = reader.errors;
    compute(schema, &mut out.form, calendar, &mut errors);
    check_rules(schema, &out.form, &mut errors);
    out.errors = errors;
    out
}

/// A problem with a schema itself (a template author's mistake, not a user's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{path}: {code}: {detail}")]
pub struct SchemaError {
    pub path: String,
    pub code: SchemaErrorCode,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaErrorCode {
    Parse,
    InvalidKey,
    DuplicateKey,
    TooManyFields,
    InvalidLimits,
    InvalidPattern,
    InvalidCurrency,
    InvalidOptions,
    NestedTable,
    UnknownReference,
    WrongReferenceType,
}

impl std::fmt::Display for SchemaErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&code)
    }
}

fn schema_error(
    path: impl Into<String>,
    code: SchemaErrorCode,
    detail: impl Into<String>,
) -> SchemaError {
    SchemaError {
        path: path.into(),
        code,
        detail: detail.into(),
    }
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn valid_currency(code: &str) -> bool {
    Currency::new(code).is_some()
}

fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
}

impl FormSchema {
    /// Parses a schema from JSON and checks it.
    pub fn from_json(json: &str) -> Result<Self, Vec<SchemaError>> {
        let schema: Self = serde_json::from_str(json)
            .map_err(|e| vec![schema_error("", SchemaErrorCode::Parse, e.to_string())])?;
        schema.check()?;
        Ok(schema)
    }

    /// Checks the schema itself: keys, limits, patterns, options, references.
    pub fn check(&self) -> Result<(), Vec<SchemaError>> {
        self.check_structure()?;
        let mut reader = Reader {
            errors: Vec::new(),
            patterns: Vec::new(),
        };
        reader.compile_patterns(&self.fields).map_err(|e| vec![e])
    }

    /// The field with `key` at the top level.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The kind of value `key` names, whether an input or a computed field.
    pub(crate) fn value_kind(&self, key: &str) -> Option<ValueKind> {
        if let Some(field) = self.field(key) {
            return Some(ValueKind::of(&field.field_type));
        }
        // Every formula yields a number or an amount.
        self.computed
            .iter()
            .any(|c| c.key == key)
            .then_some(ValueKind::Numeric)
    }

    fn check_structure(&self) -> Result<(), Vec<SchemaError>> {
        let mut problems = Vec::new();
        if self.fields.len() + self.computed.len() > MAX_FIELDS {
            problems.push(schema_error(
                "",
                SchemaErrorCode::TooManyFields,
                format!("at most {MAX_FIELDS} fields"),
            ));
        }
        let mut keys = Seen::default();
        for field in &self.fields {
            check_field(field, "", true, &mut problems);
            if !keys.insert(field.key.as_str()) {
                problems.push(schema_error(
                    &field.key,
                    SchemaErrorCode::DuplicateKey,
                    "key used twice",
                ));
            }
        }
        for computed in &self.computed {
            if !valid_key(&computed.key) {
                problems.push(schema_error(
                    &computed.key,
                    SchemaErrorCode::InvalidKey,
                    "keys are lower_snake_case",
                ));
            }
            if !keys.insert(computed.key.as_str()) {
                problems.push(schema_error(
                    &computed.key,
                    SchemaErrorCode::DuplicateKey,
                    "key used twice",
                ));
            }
            self.check_formula(computed, &mut problems);
        }
        for rule in &self.rules {
            self.check_rule(rule, &mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn check_formula(&self, computed: &ComputedField, problems: &mut Vec<SchemaError>) {
        let path = &computed.key;
        match &computed.formula {
            Formula::Sum { table, column } => {
                self.check_table_columns(path, table, std::slice::from_ref(column), problems);
            }
            Formula::SumProduct { table, factors } => {
                if factors.is_empty() {
                    problems.push(schema_error(
                        path,
                        SchemaErrorCode::UnknownReference,
                        "no factors",
                    ));
                }
                self.check_table_columns(path, table, factors, problems);
                if let Some(FieldType::Table { columns, .. }) =
                    self.field(table).map(|f| &f.field_type)
                {
                    let money = factors
                        .iter()
                        .filter(|f| {
                            columns.iter().any(|c| {
                                &c.key == *f && matches!(c.field_type, FieldType::Money { .. })
                            })
                        })
                        .count();
                    if money > 1 {
                        problems.push(schema_error(
                            path,
                            SchemaErrorCode::WrongReferenceType,
                            "at most one money factor",
                        ));
                    }
                }
            }
            Formula::WorkingDays { range } => match self.field(range).map(|f| &f.field_type) {
                Some(FieldType::DateRange { .. }) => {}
                Some(_) => problems.push(schema_error(
                    path,
                    SchemaErrorCode::WrongReferenceType,
                    format!("{range} is not a date range"),
                )),
                None => problems.push(schema_error(
                    path,
                    SchemaErrorCode::UnknownReference,
                    format!("no field {range}"),
                )),
            },
        }
    }

    fn check_table_columns(
        &self,
        path: &str,
        table: &str,
        columns: &[String],
        problems: &mut Vec<SchemaError>,
    ) {
        match self.field(table).map(|f| &f.field_type) {
            Some(FieldType::Table { columns: defs, .. }) => {
                for column in columns {
                    match defs
                        .iter()
                        .find(|c| &c.key == column)
                        .map(|c| &c.field_type)
                    {
                        Some(FieldType::Money { .. } | FieldType::Number { .. }) => {}
                        Some(_) => problems.push(schema_error(
                            path,
                            SchemaErrorCode::WrongReferenceType,
                            format!("{table}.{column} is not numeric"),
                        )),
                        None => problems.push(schema_error(
                            path,
                            SchemaErrorCode::UnknownReference,
                            format!("no column {table}.{column}"),
                        )),
                    }
                }
            }
            Some(_) => problems.push(schema_error(
                path,
                SchemaErrorCode::WrongReferenceType,
                format!("{table} is not a table"),
            )),
            None => problems.push(schema_error(
                path,
                SchemaErrorCode::UnknownReference,
                format!("no field {table}"),
            )),
        }
    }

    fn check_rule(&self, rule: &CrossFieldRule, problems: &mut Vec<SchemaError>) {
        match rule {
            CrossFieldRule::NotBefore { field, other } => {
                let kind = |k: &str| self.field(k).map(|f| f.field_type.name());
                match (kind(field), kind(other)) {
                    (Some(a), Some(b)) if a == b && (a == "date" || a == "datetime") => {}
                    (Some(_), Some(_)) => problems.push(schema_error(
                        field,
                        SchemaErrorCode::WrongReferenceType,
                        "not_before compares two dates or two datetimes",
                    )),
                    _ => problems.push(schema_error(
                        field,
                        SchemaErrorCode::UnknownReference,
                        format!("no field {field} or {other}"),
                    )),
                }
            }
            CrossFieldRule::RequiredWhen { field, when } => {
                if self.field(field).is_none() {
                    problems.push(schema_error(
                        field,
                        SchemaErrorCode::UnknownReference,
                        format!("no field {field}"),
                    ));
                }
                if when.reads_department() {
                    problems.push(schema_error(
                        field,
                        SchemaErrorCode::WrongReferenceType,
                        "form rules cannot test the initiator's department",
                    ));
                }
                check_condition_fields(self, when, field, problems);
            }
        }
    }
}

/// Checks that every field a condition reads exists and has a kind the test applies to.
pub(crate) fn check_condition_fields(
    schema: &FormSchema,
    condition: &Condition,
    path: &str,
    problems: &mut Vec<SchemaError>,
) {
    let mut need =
        |field: &str, ok: &dyn Fn(ValueKind) -> bool, what: &str| match schema.value_kind(field) {
            Some(kind) if ok(kind) => {}
            Some(_) => problems.push(schema_error(
                path,
                SchemaErrorCode::WrongReferenceType,
                format!("{field} is not {what}"),
            )),
            None => problems.push(schema_error(
                path,
                SchemaErrorCode::UnknownReference,
                format!("no field {field}"),
            )),
        };
    match condition {
        Condition::Compare { field, .. } => need(field, &|k| k == ValueKind::Numeric, "numeric"),
        Condition::AnyOf { field, .. } => need(
            field,
            &|k| k == ValueKind::Textual,
            "a select or text field",
        ),
        Condition::IsSet { field } => need(field, &|_| true, ""),
        Condition::InitiatorInDepartment { .. } => {}
        Condition::All { conditions } | Condition::Any { conditions } => {
            for c in conditions {
                check_condition_fields(schema, c, path, problems);
            }
        }
        Condition::Not { condition } => check_condition_fields(schema, condition, path, problems),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Numeric,
    Textual,
    Other,
}

impl ValueKind {
    fn of(field_type: &FieldType) -> Self {
        match field_type {
            FieldType::Number { .. } | FieldType::Money { .. } => Self::Numeric,
            FieldType::Text { .. }
            | FieldType::SingleSelect { .. }
            | FieldType::MultiSelect { .. } => Self::Textual,
            _ => Self::Other,
        }
    }
}

fn check_decimal_bounds(
    path: &str,
    min: Option<Decimal>,
    max: Option<Decimal>,
    problems: &mut Vec<SchemaError>,
) {
    let in_range = |d: Option<Decimal>| d.is_none_or(|d| d.abs() <= AMOUNT_LIMIT);
    let ordered = match (min, max) {
        (Some(a), Some(b)) => a <= b,
        _ => true,
    };
    if !in_range(min) || !in_range(max) || !ordered {
        problems.push(schema_error(
            path,
            SchemaErrorCode::InvalidLimits,
            "min/max out of order or beyond ±10^12",
        ));
    }
}

fn check_field(field: &FieldDef, prefix: &str, top: bool, problems: &mut Vec<SchemaError>) {
    let path = if prefix.is_empty() {
        field.key.clone()
    } else {
        format!("{prefix}.{}", field.key)
    };
    if !valid_key(&field.key) {
        problems.push(schema_error(
            &path,
            SchemaErrorCode::InvalidKey,
            "keys are lower_snake_case, at most 64 characters",
        ));
    }
    let limits = |ok: bool, problems: &mut Vec<SchemaError>, what: &str| {
        if !ok {
            problems.push(schema_error(
                &path,
                SchemaErrorCode::InvalidLimits,
                what.to_owned(),
            ));
        }
    };
    match &field.field_type {
        FieldType::Text {
            min_length,
            max_length,
            pattern,
        } => {
            limits(
                *max_length >= 1 && *max_length <= MAX_TEXT && min_length <= max_length,
                problems,
                "text length limits",
            );
            if pattern.as_ref().is_some_and(|p| p.len() > MAX_PATTERN_LEN) {
                problems.push(schema_error(
                    &path,
                    SchemaErrorCode::InvalidPattern,
                    "pattern too long",
                ));
            }
        }
        FieldType::LongText {
            min_length,
            max_length,
        } => {
            limits(
                *max_length >= 1 && *max_length <= MAX_LONG_TEXT && min_length <= max_length,
                problems,
                "text length limits",
            );
        }
        FieldType::Number { min, max, decimals } => {
            check_decimal_bounds(&path, *min, *max, problems);
            limits(
                *decimals <= MAX_NUMBER_DECIMALS,
                problems,
                "at most 6 decimals",
            );
        }
        FieldType::Money { currency, min, max } => {
            check_decimal_bounds(&path, *min, *max, problems);
            if !valid_currency(currency) {
                problems.push(schema_error(
                    &path,
                    SchemaErrorCode::InvalidCurrency,
                    "currency is a 3-letter ISO 4217 code",
                ));
            }
        }
        FieldType::DateRange { max_days, .. } => {
            limits(
                max_days.is_none_or(|d| d >= 1),
                problems,
                "max_days is at least 1",
            );
        }
        FieldType::SingleSelect { options } => check_options(&path, options, problems),
        FieldType::MultiSelect {
            options,
            min_selected,
            max_selected,
        } => {
            check_options(&path, options, problems);
            limits(
                max_selected.is_none_or(|m| *min_selected <= m && m >= 1),
                problems,
                "selection limits",
            );
        }
        FieldType::Attachments {
            min_count,
            max_count,
            accept,
            ..
        } => {
            limits(
                min_count <= max_count && *max_count >= 1 && *max_count <= MAX_FILES,
                problems,
                "attachment count limits",
            );
            limits(
                accept.iter().all(|a| !a.is_empty() && a.contains('/')),
                problems,
                "accept lists content types",
            );
        }
        FieldType::Table {
            columns,
            min_rows,
            max_rows,
        } => {
            if !top {
                problems.push(schema_error(
                    &path,
                    SchemaErrorCode::NestedTable,
                    "tables do not nest",
                ));
                return;
            }
            limits(
                !columns.is_empty() && columns.len() <= MAX_FIELDS,
                problems,
                "a table has 1 to 200 columns",
            );
            limits(
                min_rows <= max_rows && *max_rows >= 1 && *max_rows <= MAX_ROWS,
                problems,
                "row limits",
            );
            let mut keys = Seen::default();
            for column in columns {
                check_field(column, &path, false, problems);
                if !keys.insert(column.key.as_str()) {
                    problems.push(schema_error(
                        format!("{path}.{}", column.key),
                        SchemaErrorCode::DuplicateKey,
                        "column key used twice",
                    ));
                }
            }
        }
        FieldType::Date {}
        | FieldType::Datetime {}
        | FieldType::Person {}
        | FieldType::Department {} => {}
    }
}

/// Keys seen so far, for duplicate checks: the first few scanned (a form has a handful of
/// fields, a select a handful of options, and hashing each costs more than comparing), the
/// rest hashed. Every validation checks its schema, so this is on the hot path.
#[derive(Default)]
struct Seen<'k> {
    few: [&'k str; 16],
    len: usize,
    many: HashSet<&'k str>,
}

impl<'k> Seen<'k> {
    /// Adds `key`; false when it was already there.
    fn insert(&mut self, key: &'k str) -> bool {
        if self.few[..self.len].contains(&key) {
            return false;
        }
        match self.few.get_mut(self.len) {
            Some(slot) => {
                *slot = key;
                self.len += 1;
                true
            }
            None => self.many.insert(key),
        }
    }
}

fn check_options(path: &str, options: &[SelectOption], problems: &mut Vec<SchemaError>) {
    let mut keys = Seen::default();
    let unique = options
        .iter()
        .all(|o| !o.key.is_empty() && o.key.len() <= MAX_KEY_LEN && keys.insert(o.key.as_str()));
    if options.is_empty() || options.len() > MAX_OPTIONS || !unique {
        problems.push(schema_error(
            path,
            SchemaErrorCode::InvalidOptions,
            "1 to 500 options with unique, non-empty keys",
        ));
    }
}

/// Where a value sits: a top-level field or a table cell. Rendered only when there is an
/// error, so a clean 200-row table allocates no paths.
#[derive(Clone, Copy)]
struct Loc<'a> {
    table: Option<(&'a str, usize)>,
    key: &'a str,
}

impl Loc<'_> {
    fn render(&self) -> String {
        match self.table {
            Some((table, row)) if self.key.is_empty() => format!("{table}[{row}]"),
            Some((table, row)) => format!("{table}[{row}].{}", self.key),
            None => self.key.to_owned(),
        }
    }
}

/// Fields matched in one pass over an object; larger objects look each field up instead.
const SLOTS: usize = 16;

/// The order in which to read a table's columns, and where each column's errors start in
/// the current row.
struct Visit {
    order: Vec<usize>,
    starts: Vec<(usize, usize)>,
}

struct Reader<'s> {
    errors: Vec<FieldError>,
    /// Compiled patterns by the field that declares them (compiled once per validation, not
    /// once per row).
    patterns: Vec<(&'s FieldDef, Regex)>,
}

enum Numeric {
    Ok(Decimal),
    Bad,
}

impl<'s> Reader<'s> {
    fn compile_patterns(&mut self, fields: &'s [FieldDef]) -> Result<(), SchemaError> {
        for field in fields {
            match &field.field_type {
                FieldType::Text {
                    pattern: Some(pattern),
                    ..
                } => {
                    let regex = anchored(pattern).map_err(|e| {
                        schema_error(&field.key, SchemaErrorCode::InvalidPattern, e.to_string())
                    })?;
                    self.patterns.push((field, regex));
                }
                FieldType::Table { columns, .. } => self.compile_patterns(columns)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn error(&mut self, loc: Loc<'_>, key: MessageKey) -> &mut FieldError {
        self.errors.push(FieldError::new(loc.render(), key));
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    fn wrong_type(&mut self, loc: Loc<'_>, expected: &str) {
        self.error(loc, MessageKey::WrongType)
            .params
            .insert("expected".into(), expected.into());
    }

    /// Reads every field of `object`, handing each value read to `put` with the field's index
    /// and the object's own key for it.
    ///
    /// Fields are read in schema order, or in `visit`'s order when given (a table's columns by
    /// key, so a row's cells come out sorted); errors come out in schema order either way.
    #[allow(clippy::too_many_arguments)]
    fn read_object<'a>(
        &mut self,
        fields: &'s [FieldDef],
        mut visit: Option<&mut Visit>,
        object: &'a Map<String, Json>,
        row: Option<(&str, usize)>,
        schema: &FormSchema,
        mut put: impl FnMut(usize, &'a str, Value<'a>),
    ) {
        let mark = self.errors.len();
        let mut present = 0;
        // For the usual handful of columns, one pass over the object finds every field's value
        // (key equality checks the length first, so most comparisons never touch the bytes);
        // that is most of the cost of a 200-row table.
        let mut found: [Option<(&'a String, &'a Json)>; SLOTS] = [None; SLOTS];
        let few = fields.len() <= SLOTS;
        if few {
            for (key, value) in object {
                if let Some(index) = fields.iter().position(|f| f.key == *key) {
                    found[index] = Some((key, value));
                }
            }
        }
        for step in 0..fields.len() {
            let index = match visit.as_deref_mut() {
                Some(visit) => {
                    visit.starts.push((visit.order[step], self.errors.len()));
                    visit.order[step]
                }
                None => step,
            };
            let field = &fields[index];
            let loc = Loc {
                table: row,
                key: &field.key,
            };
            let raw = if few {
                found[index]
            } else {
                object.get_key_value(field.key.as_str())
            };
            present += usize::from(raw.is_some());
            match raw.filter(|(_, v)| !v.is_null()) {
                None => {
                    if field.required {
                        self.error(loc, MessageKey::Required);
                    }
                }
                Some((key, raw)) => {
                    if let Some(value) = self.read_value(field, raw, loc, schema) {
                        put(index, key, value);
                    }
                }
            }
        }
        if let Some(visit) = visit {
            if self.errors.len() > mark {
                self.restore_field_order(mark, &visit.starts);
            }
            visit.starts.clear();
        }
        // Field keys are unique, so the object has an unknown key exactly when it has more
        // keys than fields found in it; only then is it worth finding which. Those errors go
        // first, where a reader of the object meets them.
        if object.len() > present {
            let unknown: Vec<FieldError> = object
                .keys()
                .filter(|key| !fields.iter().any(|f| &f.key == *key))
                .map(|key| {
                    let is_computed =
                        row.is_none() && schema.computed.iter().any(|c| &c.key == key);
                    let key_kind = if is_computed {
                        MessageKey::ReadOnly
                    } else {
                        MessageKey::UnknownField
                    };
                    FieldError::new(Loc { table: row, key }.render(), key_kind)
                })
                .collect();
            self.errors.splice(mark..mark, unknown);
        }
    }

    /// Puts the errors recorded since `mark`, made field by field in the order of `starts`
    /// (field index, index of its first error), back in field order.
    fn restore_field_order(&mut self, mark: usize, starts: &[(usize, usize)]) {
        let end = self.errors.len();
        let mut spans: Vec<(usize, usize, usize)> = starts
            .iter()
            .enumerate()
            .map(|(step, &(field, first))| {
                let next = starts.get(step + 1).map_or(end, |&(_, next)| next);
                (field, first, next)
            })
            .filter(|(_, first, next)| first < next)
            .collect();
        if spans.windows(2).all(|w| w[0].0 < w[1].0) {
            return;
        }
        spans.sort_by_key(|span| span.0);
        let reordered: Vec<FieldError> = spans
            .iter()
            .flat_map(|&(_, first, next)| self.errors[first..next].iter().cloned())
            .collect();
        self.errors.truncate(mark);
        self.errors.extend(reordered);
    }

    /// Reads one present, non-null value; `None` when it is invalid (errors recorded) or is
    /// an empty value of an optional field.
    fn read_value<'a>(
        &mut self,
        field: &'s FieldDef,
        raw: &'a Json,
        loc: Loc<'_>,
        schema: &FormSchema,
    ) -> Option<Value<'a>> {
        match &field.field_type {
            FieldType::Text {
                min_length,
                max_length,
                ..
            } => {
                let text = self.read_text(field, raw, loc, *min_length, *max_length, true)?;
                let pattern = self
                    .patterns
                    .iter()
                    .find(|(f, _)| std::ptr::eq(*f, field))
                    .map(|(_, r)| r);
                if pattern.is_some_and(|p| !p.is_match(text)) {
                    self.error(loc, MessageKey::PatternMismatch);
                    return None;
                }
                Some(Value::Text(Cow::Borrowed(text)))
            }
            FieldType::LongText {
                min_length,
                max_length,
            } => self
                .read_text(field, raw, loc, *min_length, *max_length, false)
                .map(|text| Value::Text(Cow::Borrowed(text))),
            FieldType::Number { min, max, decimals } => {
                let Numeric::Ok(n) = self.read_decimal(raw, loc, *decimals, true) else {
                    return None;
                };
                self.check_bounds(n, *min, *max, loc)
                    .then_some(Value::Number(n))
            }
            FieldType::Money { currency, min, max } => {
                let Some(object) = raw.as_object() else {
                    self.wrong_type(loc, "money");
                    return None;
                };
                // One pass over the (two) keys rather than a check and two look-ups.
                let (mut raw_amount, mut raw_currency) = (None, None);
                for (key, value) in object {
                    match key.as_str() {
                        "amount" => raw_amount = Some(value),
                        "currency" => raw_currency = Some(value),
                        _ => {
                            self.wrong_type(loc, "money");
                            return None;
                        }
                    }
                }
                let amount_loc = loc;
                let amount = match raw_amount {
                    Some(raw_amount) => {
                        match self.read_decimal(raw_amount, amount_loc, MONEY_DECIMALS, false) {
                            Numeric::Ok(a) => Some(a),
                            Numeric::Bad => None,
                        }
                    }
                    None => {
                        self.error(loc, MessageKey::Required);
                        None
                    }
                };
                let expected = Currency::new(currency);
                let currency_ok = match raw_currency.and_then(Json::as_str) {
                    Some(c) if c == currency && expected.is_some() => true,
                    _ => {
                        self.error(loc, MessageKey::CurrencyMismatch)
                            .params
                            .insert("expected".into(), currency.clone());
                        false
                    }
                };
                let mut amount = amount?;
                // Money always carries cents, so "12.5" and "12.50" are one value and print alike.
                amount.rescale(MONEY_DECIMALS);
                let currency = expected.filter(|_| currency_ok)?;
                self.check_bounds(amount, *min, *max, loc)
                    .then_some(Value::Money(Money { amount, currency }))
            }
            FieldType::Date {} => self.read_date(raw, loc).map(Value::Date),
            FieldType::DateRange {
                half_days,
                max_days,
            } => self
                .read_range(raw, loc, *half_days, *max_days)
                .map(Value::DateRange),
            FieldType::Datetime {} => {
                let Some(text) = raw.as_str() else {
                    self.wrong_type(loc, "datetime");
                    return None;
                };
                match DateTime::parse_from_rfc3339(text) {
                    Ok(t) if (MIN_YEAR..=MAX_YEAR).contains(&chrono::Datelike::year(&t)) => {
                        Some(Value::Datetime(t.with_timezone(&Utc)))
                    }
                    _ => {
                        self.error(loc, MessageKey::InvalidDatetime);
                        None
                    }
                }
            }
            FieldType::SingleSelect { options } => {
                let Some(choice) = raw.as_str() else {
                    self.wrong_type(loc, "string");
                    return None;
                };
                if choice.is_empty() {
                    if field.required {
                        self.error(loc, MessageKey::Required);
                    }
                    return None;
                }
                if !options.iter().any(|o| o.key == choice) {
                    self.error(loc, MessageKey::UnknownOption);
                    return None;
                }
                Some(Value::Choice(Cow::Borrowed(choice)))
            }
            FieldType::MultiSelect {
                options,
                min_selected,
                max_selected,
            } => {
                let Some(items) = raw.as_array() else {
                    self.wrong_type(loc, "array");
                    return None;
                };
                if items.is_empty() && !field.required && *min_selected == 0 {
                    return None;
                }
                let mut chosen: Vec<Cow<'a, str>> = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match item.as_str() {
                        Some(key) if options.iter().any(|o| o.key == key) => {
                            if chosen.iter().any(|c| c == key) {
                                self.error(loc, MessageKey::DuplicateOption);
                                ok = false;
                            } else {
                                chosen.push(Cow::Borrowed(key));
                            }
                        }
                        Some(_) => {
                            self.error(loc, MessageKey::UnknownOption);
                            ok = false;
                        }
                        None => {
                            self.wrong_type(loc, "string");
                            ok = false;
                        }
                    }
                }
                let min = (*min_selected).max(u32::from(field.required));
                if (items.len() as u64) < u64::from(min) {
                    if items.is_empty() {
                        self.error(loc, MessageKey::Required);
                    } else {
                        self.error(loc, MessageKey::TooFewSelected)
                            .params
                            .insert("min".into(), min.to_string());
                    }
                    ok = false;
                }
                if let Some(max) = max_selected
                    && items.len() as u64 > u64::from(*max)
                {
                    self.error(loc, MessageKey::TooManySelected)
                        .params
                        .insert("max".into(), max.to_string());
                    ok = false;
                }
                ok.then_some(Value::Choices(chosen))
            }
            FieldType::Person {} => self.read_id(raw, loc).map(Value::Person),
            FieldType::Department {} => self.read_id(raw, loc).map(Value::Department),
            FieldType::Attachments {
                min_count,
                max_count,
                max_size_bytes,
                accept,
            } => self.read_attachments(
                field,
                raw,
                loc,
                *min_count,
                *max_count,
                *max_size_bytes,
                accept,
            ),
            FieldType::Table {
                columns,
                min_rows,
                max_rows,
            } => {
                let Some(rows) = raw.as_array() else {
                    self.wrong_type(loc, "array");
                    return None;
                };
                if rows.is_empty() && !field.required && *min_rows == 0 {
                    return None;
                }
                let before = self.errors.len();
                let min = (*min_rows).max(u32::from(field.required));
                if (rows.len() as u64) < u64::from(min) {
                    if rows.is_empty() {
                        self.error(loc, MessageKey::Required);
                    } else {
                        self.error(loc, MessageKey::TooFewRows)
                            .params
                            .insert("min".into(), min.to_string());
                    }
                }
                if rows.len() as u64 > u64::from(*max_rows) {
                    // Reading thousands of rows past the limit would only bury the one error
                    // that matters.
                    self.error(loc, MessageKey::TooManyRows)
                        .params
                        .insert("max".into(), max_rows.to_string());
                    return None;
                }
                // A row keeps its cells sorted by key: read the columns in key order.
                let mut order: Vec<usize> = (0..columns.len()).collect();
                order.sort_unstable_by(|&a, &b| columns[a].key.cmp(&columns[b].key));
                let mut visit = Visit {
                    order,
                    starts: Vec::with_capacity(columns.len()),
                };
                let mut table = Table::with_capacity(rows.len(), columns.len());
                for (index, row) in rows.iter().enumerate() {
                    let row_loc = Loc {
                        table: Some((&field.key, index)),
                        key: "",
                    };
                    let Some(object) = row.as_object() else {
                        self.wrong_type(row_loc, "object");
                        continue;
                    };
                    // Cells of an invalid table are kept to no purpose, but keeping them costs
                    // less than asking.
                    self.read_object(
                        columns,
                        Some(&mut visit),
                        object,
                        Some((&field.key, index)),
                        schema,
                        |_, key, value| table.cells.push((Cow::Borrowed(key), value)),
                    );
                    table.ends.push(table.cells.len());
                }
                (self.errors.len() == before).then_some(Value::Table(table))
            }
        }
    }

    fn read_text<'a>(
        &mut self,
        field: &FieldDef,
        raw: &'a Json,
        loc: Loc<'_>,
        min: u32,
        max: u32,
        single_line: bool,
    ) -> Option<&'a str> {
        let Some(text) = raw.as_str() else {
            self.wrong_type(loc, "string");
            return None;
        };
        // Whitespace alone is not an answer to a required question.
        if blank(text) {
            if field.required {
                self.error(loc, MessageKey::Required);
            }
            return None;
        }
        // A text no longer in bytes than the limit is no longer in characters either, so the
        // characters are only counted when it could matter.
        let length = if text.len() <= max as usize && min == 0 {
            0
        } else {
            text.chars().count()
        };
        if length > max as usize {
            self.error(loc, MessageKey::TooLong)
                .params
                .insert("max".into(), max.to_string());
            return None;
        }
        if length < min as usize {
            self.error(loc, MessageKey::TooShort)
                .params
                .insert("min".into(), min.to_string());
            return None;
        }
        if single_line && has_line_break(text) {
            self.error(loc, MessageKey::NoLineBreaks);
            return None;
        }
        Some(text)
    }

    fn read_decimal(
        &mut self,
        raw: &Json,
        loc: Loc<'_>,
        decimals: u32,
        integers_as_numbers: bool,
    ) -> Numeric {
        let parsed = match raw {
            Json::String(text) => parse_decimal(text),
            Json::Number(n) if integers_as_numbers => {
                if let Some(i) = n.as_i64() {
                    Ok(Decimal::from(i))
                } else if let Some(u) = n.as_u64() {
                    Ok(Decimal::from(u))
                } else {
                    // A float may already have lost the value the user typed.
                    self.wrong_type(loc, "decimal string");
                    return Numeric::Bad;
                }
            }
            _ => {
                self.wrong_type(loc, "decimal string");
                return Numeric::Bad;
            }
        };
        let value = match parsed {
            Ok(v) => v,
            Err(DecimalProblem::Invalid) => {
                self.error(loc, MessageKey::InvalidNumber);
                return Numeric::Bad;
            }
            Err(DecimalProblem::OutOfRange) => {
                self.error(loc, MessageKey::AmountOutOfRange);
                return Numeric::Bad;
            }
        };
        if !within_limit(value) {
            self.error(loc, MessageKey::AmountOutOfRange);
            return Numeric::Bad;
        }
        // Strings arrive normalised; integers have no decimals.
        if value.scale() > decimals {
            self.error(loc, MessageKey::TooManyDecimals)
                .params
                .insert("max".into(), decimals.to_string());
            return Numeric::Bad;
        }
        Numeric::Ok(value)
    }

    fn check_bounds(
        &mut self,
        value: Decimal,
        min: Option<Decimal>,
        max: Option<Decimal>,
        loc: Loc<'_>,
    ) -> bool {
        if let Some(min) = min
            && compare(value, min).is_lt()
        {
            if value.is_sign_negative() && !min.is_sign_negative() {
                self.error(loc, MessageKey::Negative);
            } else {
                self.error(loc, MessageKey::BelowMin)
                    .params
                    .insert("min".into(), min.to_string());
            }
            return false;
        }
        if let Some(max) = max
            && compare(value, max).is_gt()
        {
            self.error(loc, MessageKey::AboveMax)
                .params
                .insert("max".into(), max.to_string());
            return false;
        }
        true
    }

    fn read_date(&mut self, raw: &Json, loc: Loc<'_>) -> Option<NaiveDate> {
        let Some(text) = raw.as_str() else {
            self.wrong_type(loc, "date");
            return None;
        };
        let date = parse_date(text);
        if date.is_none() {
            self.error(loc, MessageKey::InvalidDate);
        }
        date
    }

    fn read_range(
        &mut self,
        raw: &Json,
        loc: Loc<'_>,
        half_days: bool,
        max_days: Option<u32>,
    ) -> Option<DateRange> {
        let Some(object) = raw.as_object() else {
            self.wrong_type(loc, "date range");
            return None;
        };
        if object
            .keys()
            .any(|k| !matches!(k.as_str(), "start" | "end" | "start_half" | "end_half"))
        {
            self.wrong_type(loc, "date range");
            return None;
        }
        let mut date = |name: &str| match object.get(name) {
            Some(Json::String(text)) => {
                let d = parse_date(text);
                if d.is_none() {
                    self.error(loc, MessageKey::InvalidDate);
                }
                d
            }
            Some(_) => {
                self.wrong_type(loc, "date");
                None
            }
            None => {
                self.error(loc, MessageKey::Required);
                None
            }
        };
        let start = date("start");
        let end = date("end");
        let mut half = |name: &str, default: HalfDay| match object.get(name) {
            None | Some(Json::Null) => Some(default),
            Some(Json::String(s)) if half_days && s == "am" => Some(HalfDay::Am),
            Some(Json::String(s)) if half_days && s == "pm" => Some(HalfDay::Pm),
            Some(Json::String(s)) if !half_days && (s == "am" || s == "pm") => {
                if (s == "am") == (default == HalfDay::Am) {
                    Some(default)
                } else {
                    self.error(loc, MessageKey::HalfDayNotAllowed);
                    None
                }
            }
            Some(_) => {
                self.wrong_type(loc, "\"am\" or \"pm\"");
                None
            }
        };
        let start_half = half("start_half", HalfDay::Am);
        let end_half = half("end_half", HalfDay::Pm);
        let (start, end, start_half, end_half) = (start?, end?, start_half?, end_half?);
        if end < start || (end == start && start_half == HalfDay::Pm && end_half == HalfDay::Am) {
            self.error(loc, MessageKey::ReversedRange);
            return None;
        }
        if let Some(max) = max_days
            && (end - start).num_days() + 1 > i64::from(max)
        {
            self.error(loc, MessageKey::RangeTooLong)
                .params
                .insert("max".into(), max.to_string());
            return None;
        }
        Some(DateRange {
            start,
            end,
            start_half,
            end_half,
        })
    }

    fn read_id(&mut self, raw: &Json, loc: Loc<'_>) -> Option<Uuid> {
        let Some(text) = raw.as_str() else {
            self.wrong_type(loc, "id");
            return None;
        };
        match Uuid::try_parse(text) {
            Ok(id) if !id.is_nil() => Some(id),
            _ => {
                self.error(loc, MessageKey::InvalidId);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn read_attachments<'a>(
        &mut self,
        field: &FieldDef,
        raw: &'a Json,
        loc: Loc<'_>,
        min_count: u32,
        max_count: u32,
        max_size: u64,
        accept: &[String],
    ) -> Option<Value<'a>> {
        let Some(items) = raw.as_array() else {
            self.wrong_type(loc, "array");
            return None;
        };
        if items.is_empty() && !field.required && min_count == 0 {
            return None;
        }
        let min = min_count.max(u32::from(field.required));
        let mut ok = true;
        if (items.len() as u64) < u64::from(min) {
            if items.is_empty() {
                self.error(loc, MessageKey::Required);
            } else {
                self.error(loc, MessageKey::TooFewFiles)
                    .params
                    .insert("min".into(), min.to_string());
            }
            ok = false;
        }
        if items.len() as u64 > u64::from(max_count) {
            self.error(loc, MessageKey::TooManyFiles)
                .params
                .insert("max".into(), max_count.to_string());
            return None;
        }
        let mut files = Files::default();
        for (index, item) in items.iter().enumerate() {
            let Some(file) = read_attachment(item) else {
                self.wrong_type(loc, "attachment");
                ok = false;
                continue;
            };
            if file.id.is_nil()
                || items[..index]
                    .iter()
                    .any(|earlier| earlier.get("id") == item.get("id"))
                || blank(&file.name)
                || (file.name.len() > MAX_FILE_NAME && file.name.chars().count() > MAX_FILE_NAME)
            {
                self.error(loc, MessageKey::InvalidId);
                ok = false;
                continue;
            }
            if file.size > max_size {
                self.error(loc, MessageKey::FileTooLarge)
                    .params
                    .insert("max".into(), max_size.to_string());
                ok = false;
                continue;
            }
            if !accept.is_empty()
                && !accept
                    .iter()
                    .any(|a| content_type_matches(a, &file.content_type))
            {
                self.error(loc, MessageKey::FileTypeNotAllowed);
                ok = false;
                continue;
            }
            files.push(file);
        }
        ok.then_some(Value::Attachments(files))
    }
}

fn content_type_matches(accepted: &str, actual: &str) -> bool {
    let actual = trim(
        actual
            .as_bytes()
            .iter()
            .position(|&b| b == b';')
            .map_or(actual, |semicolon| &actual[..semicolon]),
    );
    match accepted.strip_suffix("/*") {
        Some(family) => actual
            .split_once('/')
            .is_some_and(|(kind, _)| kind.eq_ignore_ascii_case(family)),
        // Equal bytes first: the usual case, and cheaper than comparing case-blind.
        None => actual == accepted || actual.eq_ignore_ascii_case(accepted),
    }
}

/// Whether `text` is empty or all whitespace (`char::is_whitespace`). Answered from the first
/// byte for almost every real text.
fn blank(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(&lead) if starts_no_whitespace(lead) => false,
        _ => text.chars().all(char::is_whitespace),
    }
}

/// Whether no whitespace character's UTF-8 encoding starts with `lead`: printable ASCII, and
/// the lead bytes of U+00C0–U+0FFF and U+4000 on (Unicode's non-ASCII whitespace is U+0085,
/// U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000). Chinese text
/// starts in the second range.
fn starts_no_whitespace(lead: u8) -> bool {
    matches!(lead, b'!'..=b'~' | 0xC3..=0xE0 | 0xE4..=0xF4)
}

/// `str::trim`, answered from the two end bytes when neither can be whitespace.
fn trim(text: &str) -> &str {
    let plain = |b: &u8| b.is_ascii() && !b.is_ascii_whitespace() && *b != 0x0B;
    match text.as_bytes() {
        [first, .., last] if plain(first) && plain(last) => text,
        [only] if plain(only) => text,
        _ => text.trim(),
    }
}

/// Whether `text` contains a line feed or carriage return: eight bytes at a time, each word
/// tested for either byte with the usual zero-byte trick, the tail byte by byte.
fn has_line_break(text: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const CR: u64 = u64::from_ne_bytes([b'\r'; 8]);
    // Non-zero exactly when some byte of `v` is zero.
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let breaks = |word: [u8; 8]| {
        let word = u64::from_ne_bytes(word);
        zero_byte(word ^ LF) | zero_byte(word ^ CR) != 0
    };
    let mut words = text.as_bytes().chunks_exact(8);
    if words
        .by_ref()
        .any(|word| breaks(word.try_into().unwrap_or_default()))
    {
        return true;
    }
    // The tail padded with zero bytes, which are neither.
    let mut tail = [0u8; 8];
    let rest = words.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    breaks(tail)
}

/// Whether `|value| <= 10^12`. A mantissa within the limit settles it without comparing
/// decimals, since the scale only makes the value smaller.
fn within_limit(value: Decimal) -> bool {
    const LIMIT: u128 = 1_000_000_000_000;
    value.mantissa().unsigned_abs() <= LIMIT || value.abs() <= AMOUNT_LIMIT
}

/// Numeric order of two decimals; at equal scales, the order of their mantissas.
fn compare(a: Decimal, b: Decimal) -> std::cmp::Ordering {
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(&b)
    }
}

/// An attachment reference read straight from the JSON object (no clone, no serde pass).
fn read_attachment(item: &Json) -> Option<AttachmentRef<'_>> {
    let object = item.as_object()?;
    if object.len() != 4 {
        return None;
    }
    let (mut id, mut name, mut size, mut content_type) = (None, None, None, None);
    for (key, value) in object {
        match key.as_str() {
            "id" => id = Uuid::try_parse(value.as_str()?).ok(),
            "name" => name = value.as_str(),
            "size" => size = value.as_u64(),
            "content_type" => content_type = value.as_str(),
            _ => return None,
        }
    }
    Some(AttachmentRef {
        id: id?,
        name: Cow::Borrowed(name?),
        size: size?,
        content_type: Cow::Borrowed(content_type?),
    })
}

enum DecimalProblem {
    Invalid,
    OutOfRange,
}

/// An amount of money as a form or a computed value carries it (`"4800.00"`), read with the
/// same strict syntax and range as validation reads it; `None` for anything else.
pub(crate) fn parse_amount(text: &str) -> Option<Decimal> {
    parse_decimal(text).ok().filter(|v| within_limit(*v))
}

/// Strict decimal syntax: optional minus, digits, optional fraction. No exponent, no
/// separators, no plus sign: what a form sends, nothing a locale might mean differently.
/// The value comes back normalised: no trailing zeros after the point, no negative zero.
fn parse_decimal(text: &str) -> Result<Decimal, DecimalProblem> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // One pass checks the syntax and accumulates the digits (meaningful only while they fit,
    // which is checked below).
    let mut dot = None;
    let mut mantissa = 0u64;
    for (index, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
            }
            b'.' if dot.is_none() => dot = Some(index),
            _ => return Err(DecimalProblem::Invalid),
        }
    }
    let (whole, fraction) = match dot {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    if whole.is_empty() || (dot.is_some() && fraction.is_empty()) {
        return Err(DecimalProblem::Invalid);
    }
    // Leading zeros do not count towards magnitude; anything longer than 13 integer digits
    // is beyond ±10^12 whatever it says.
    let significant = whole
        .iter()
        .position(|&b| b != b'0')
        .map_or(0, |first| whole.len() - first);
    if significant > 13 || fraction.len() > 20 {
        return Err(DecimalProblem::OutOfRange);
    }
    // Up to 19 significant digits fit a u64 exactly: build the decimal from them (what the
    // general parser would produce, without its generality). Longer ones go to it.
    if significant + fraction.len() <= 19 {
        let mut scale = fraction.len() as u32;
        while scale > 0 && mantissa.is_multiple_of(10) {
            mantissa /= 10;
            scale -= 1;
        }
        return Ok(Decimal::from_parts(
            mantissa as u32,
            (mantissa >> 32) as u32,
            0,
            negative,
            scale,
        ));
    }
    text.parse::<Decimal>()
        .map(|d| d.normalize())
        .map_err(|_| DecimalProblem::Invalid)
}

/// `YYYY-MM-DD` exactly (a hot path: one per table row).
fn parse_date(text: &str) -> Option<NaiveDate> {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = text.as_bytes() else {
        return None;
    };
    let digit = |b: u8| {
        let d = b.wrapping_sub(b'0');
        (d <= 9).then_some(u16::from(d))
    };
    let year = digit(y0)? * 1000 + digit(y1)? * 100 + digit(y2)? * 10 + digit(y3)?;
    let month = digit(m0)? * 10 + digit(m1)?;
    let day = digit(d0)? * 10 + digit(d1)?;
    let year = i32::from(year);
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))
}

fn compute(
    schema: &FormSchema,
    form: &mut ValidForm,
    calendar: &WorkingCalendar,
    errors: &mut Vec<FieldError>,
) {
    for computed in &schema.computed {
        let value = match &computed.formula {
            Formula::Sum { table, column } => {
                sum_product(schema, form, table, std::slice::from_ref(column))
            }
            Formula::SumProduct { table, factors } => sum_product(schema, form, table, factors),
            Formula::WorkingDays { range } => match form.values.get(range) {
                Some(Value::DateRange(r)) => {
                    match calendar.leave_days(r.start, r.start_half, r.end, r.end_half) {
                        Ok(days) => Ok(Some(Value::Number(days))),
                        Err(CalendarError::OutOfRange { date, .. }) => {
                            errors.push(
                                FieldError::new(range.clone(), MessageKey::OutsideCalendar)
                                    .with("date", date),
                            );
                            Ok(None)
                        }
                        Err(_) => {
                            errors.push(FieldError::new(range.clone(), MessageKey::RangeTooLong));
                            Ok(None)
                        }
                    }
                }
                _ => Ok(None),
            },
        };
        match value {
            Ok(Some(v)) => {
                form.computed.insert(computed.key.clone(), v);
            }
            Ok(None) => {}
            Err(key) => errors.push(FieldError::new(computed.key.clone(), key)),
        }
    }
}

/// Σ over rows of Π factors; a row missing a factor contributes nothing (it already has its
/// own error, or the column is optional). Returns `None` when the table is absent.
fn sum_product(
    schema: &FormSchema,
    form: &ValidForm<'_>,
    table: &str,
    factors: &[String],
) -> Result<Option<Value<'static>>, MessageKey> {
    let Some(FieldType::Table { columns, .. }) = schema.field(table).map(|f| &f.field_type) else {
        return Ok(None);
    };
    let currency = factors.iter().find_map(|f| {
        match columns.iter().find(|c| &c.key == f).map(|c| &c.field_type) {
            Some(FieldType::Money { currency, .. }) => Currency::new(currency),
            _ => None,
        }
    });
    let rows = match form.values.get(table) {
        Some(Value::Table(rows)) => Some(rows),
        _ => None,
    };
    let mut total = Decimal::ZERO;
    for row in rows.into_iter().flat_map(Table::rows) {
        let mut product: Option<Decimal> = None;
        let mut complete = true;
        for factor in factors {
            match row.get(factor).and_then(Value::as_decimal) {
                // The first factor is the product so far: multiplying it by one would give the
                // same decimal, scale included (validated values are never negative zero).
                Some(v) => {
                    product = Some(match product {
                        None => v,
                        Some(p) => p.checked_mul(v).ok_or(MessageKey::AmountOutOfRange)?,
                    });
                }
                None => complete = false,
            }
        }
        if !complete {
            continue;
        }
        let mut product = product.unwrap_or(Decimal::ONE);
        if currency.is_some() {
            product = product
                .round_dp_with_strategy(MONEY_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
        }
        total = total
            .checked_add(product)
            .ok_or(MessageKey::AmountOutOfRange)?;
    }
    if total.abs() > AMOUNT_LIMIT {
        return Err(MessageKey::AmountOutOfRange);
    }
    Ok(Some(match currency {
        Some(currency) => {
            total.rescale(MONEY_DECIMALS);
            Value::Money(Money {
                amount: total,
                currency,
            })
        }
        None => Value::Number(total.normalize()),
    }))
}

fn check_rules(schema: &FormSchema, form: &ValidForm, errors: &mut Vec<FieldError>) {
    let no_departments = BTreeSet::new();
    let input = ConditionInput {
        form,
        initiator_departments: &no_departments,
    };
    for rule in &schema.rules {
        match rule {
            CrossFieldRule::NotBefore { field, other } => {
                let before = match (form.values.get(field), form.values.get(other)) {
                    (Some(Value::Date(a)), Some(Value::Date(b))) => a < b,
                    (Some(Value::Datetime(a)), Some(Value::Datetime(b))) => a < b,
                    _ => false,
                };
                if before {
                    errors.push(
                        FieldError::new(field.clone(), MessageKey::NotBefore).with("other", other),
                    );
                }
            }
            CrossFieldRule::RequiredWhen { field, when } => {
                let already = errors.iter().any(|e| &e.path == field);
                if !already && !form.values.contains_key(field) && when.holds(&input) {
                    errors.push(FieldError::new(field.clone(), MessageKey::Required));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::cn_mainland().expect("calendar")
    }

    fn schema(json: Json) -> FormSchema {
        let schema: FormSchema = serde_json::from_value(json).expect("schema parses");
        schema.check().expect("schema is valid");
        schema
    }

    fn reimbursement() -> FormSchema {
        schema(json!({
            "fields": [
                {"key": "title", "label": {"zh-CN": "事由", "en": "Purpose"}, "required": true,
                 "type": {"kind": "text", "max_length": 10}},
                {"key": "lines", "label": {"zh-CN": "明细", "en": "Lines"}, "required": true,
                 "type": {"kind": "table", "max_rows": 3, "columns": [
                    {"key": "amount", "label": {"zh-CN": "金额", "en": "Amount"}, "required": true,
                     "type": {"kind": "money", "currency": "CNY", "min": "0.01"}},
                    {"key": "quantity", "label": {"zh-CN": "数量", "en": "Quantity"},
                     "type": {"kind": "number", "min": "1", "decimals": 0}},
                    {"key": "day", "label": {"zh-CN": "日期", "en": "Date"}, "type": {"kind": "date"}}
                 ]}}
            ],
            "computed": [
                {"key": "total", "label": {"zh-CN": "合计", "en": "Total"},
                 "formula": {"kind": "sum", "table": "lines", "column": "amount"}},
                {"key": "weighted", "label": {"zh-CN": "x", "en": "x"},
                 "formula": {"kind": "sum_product", "table": "lines", "factors": ["amount", "quantity"]}}
            ]
        }))
    }

    fn paths(errors: &[FieldError]) -> Vec<(String, MessageKey)> {
        errors.iter().map(|e| (e.path.clone(), e.key)).collect()
    }

    #[test]
    fn valid_form_computes_totals() {
        let data = json!({"title": "Trip", "lines": [
            {"amount": {"amount": "10.50", "currency": "CNY"}, "quantity": 2},
            {"amount": {"amount": "0.25", "currency": "CNY"}, "quantity": "3", "day": "2026-03-09"}
        ]});
        let form = validate(&reimbursement(), &data, &cal()).expect("valid");
        assert_eq!(
            form.computed.get("total"),
            Some(&Value::Money(Money {
                amount: Decimal::new(1075, 2),
                currency: Currency::CNY
            }))
        );
        assert_eq!(
            form.get("weighted").and_then(Value::as_decimal),
            Some(Decimal::new(2175, 2))
        );
    }

    #[test]
    fn every_error_is_reported_at_once_with_its_path() {
        let errors = validate(
            &reimbursement(),
            &json!({"title": "far too long a title", "extra": 1, "total": "5", "lines": [
                {"amount": {"amount": "1.005", "currency": "CNY"}},
                {"amount": {"amount": "-3", "currency": "CNY"}, "quantity": -1},
                {"amount": {"amount": "5", "currency": "USD"}, "day": "2026-02-30", "x": true}
            ]}),
            &cal(),
        )
        .expect_err("invalid");
        let mut got = paths(&errors);
        got.sort();
        let mut want = vec![
            ("extra".to_owned(), MessageKey::UnknownField),
            ("total".to_owned(), MessageKey::ReadOnly),
            ("title".to_owned(), MessageKey::TooLong),
            ("lines[0].amount".to_owned(), MessageKey::TooManyDecimals),
            ("lines[1].amount".to_owned(), MessageKey::Negative),
            ("lines[1].quantity".to_owned(), MessageKey::Negative),
            ("lines[2].amount".to_owned(), MessageKey::CurrencyMismatch),
            ("lines[2].day".to_owned(), MessageKey::InvalidDate),
            ("lines[2].x".to_owned(), MessageKey::UnknownField),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_rows_errors_come_in_column_order_though_cells_are_read_by_key() {
        // Columns are amount, quantity, day; by key they are amount, day, quantity.
        let errors = validate(
            &reimbursement(),
            &json!({"title": "t", "lines": [
                {"day": "2026-02-30", "quantity": "0.5", "x": 1},
                {"amount": {"amount": "1", "currency": "USD"}, "day": 7, "quantity": -2}
            ]}),
            &cal(),
        )
        .expect_err("invalid");
        assert_eq!(
            paths(&errors),
            vec![
                ("lines[0].x".into(), MessageKey::UnknownField),
                ("lines[0].amount".into(), MessageKey::Required),
                ("lines[0].quantity".into(), MessageKey::TooManyDecimals),
                ("lines[0].day".into(), MessageKey::InvalidDate),
                ("lines[1].amount".into(), MessageKey::CurrencyMismatch),
                ("lines[1].quantity".into(), MessageKey::Negative),
                ("lines[1].day".into(), MessageKey::WrongType),
            ]
        );
    }

    #[test]
    fn wrong_json_types_and_limits() {
        let s = reimbursement();
        let errors = validate(&s, &json!({"title": 5, "lines": {}}), &cal()).expect_err("invalid");
        assert_eq!(
            paths(&errors),
            vec![
                ("title".into(), MessageKey::WrongType),
                ("lines".into(), MessageKey::WrongType)
            ]
        );
        let errors = validate(&s, &json!([]), &cal()).expect_err("not an object");
        assert_eq!(paths(&errors), vec![("".into(), MessageKey::WrongType)]);
        let errors = validate(&s, &json!({}), &cal()).expect_err("missing");
        assert_eq!(
            paths(&errors),
            vec![
                ("title".into(), MessageKey::Required),
                ("lines".into(), MessageKey::Required)
            ]
        );
        let line = json!({"amount": {"amount": "1", "currency": "CNY"}});
        let errors = validate(
            &s,
            &json!({"title": "t", "lines": [line, line, line, line]}),
            &cal(),
        )
        .expect_err("too many rows");
        assert_eq!(
            paths(&errors),
            vec![("lines".into(), MessageKey::TooManyRows)]
        );
        for (amount, key) in [
            (json!("1000000000000.01"), MessageKey::AmountOutOfRange),
            (
                json!("99999999999999999999999999999999"),
                MessageKey::AmountOutOfRange,
            ),
            (json!("1e3"), MessageKey::InvalidNumber),
            (json!("1_000"), MessageKey::InvalidNumber),
            (json!(12.5), MessageKey::WrongType),
            (json!(12), MessageKey::WrongType),
        ] {
            let errors = validate(
                &s,
                &json!({"title": "t", "lines": [{"amount": {"amount": amount, "currency": "CNY"}}]}),
                &cal(),
            )
            .expect_err("bad amount");
            assert_eq!(
                paths(&errors),
                vec![("lines[0].amount".into(), key)],
                "{amount}"
            );
        }
        // Exactly the limit is allowed.
        assert!(validate(
            &s,
            &json!({"title": "t", "lines": [{"amount": {"amount": "1000000000000", "currency": "CNY"}}]}),
            &cal()
        )
        .is_ok());
    }

    fn leave() -> FormSchema {
        schema(json!({
            "fields": [
                {"key": "period", "label": {"zh-CN": "时间", "en": "Period"}, "required": true,
                 "type": {"kind": "date_range", "half_days": true, "max_days": 60}},
                {"key": "kind", "label": {"zh-CN": "类型", "en": "Kind"}, "required": true,
                 "type": {"kind": "single_select", "options": [
                    {"key": "annual", "label": {"zh-CN": "年假", "en": "Annual"}},
                    {"key": "sick", "label": {"zh-CN": "病假", "en": "Sick"}}]}},
                {"key": "certificate", "label": {"zh-CN": "证明", "en": "Certificate"},
                 "type": {"kind": "attachments", "accept": ["application/pdf", "image/*"], "max_size_bytes": 1000}},
                {"key": "back", "label": {"zh-CN": "返回", "en": "Back"}, "type": {"kind": "date"}},
                {"key": "leaving", "label": {"zh-CN": "出发", "en": "Leaving"}, "type": {"kind": "date"}}
            ],
            "computed": [{"key": "days", "label": {"zh-CN": "天数", "en": "Days"},
                          "formula": {"kind": "working_days", "range": "period"}}],
            "rules": [
                {"kind": "not_before", "field": "back", "other": "leaving"},
                {"kind": "required_when", "field": "certificate",
                 "when": {"kind": "all", "conditions": [
                    {"kind": "any_of", "field": "kind", "values": ["sick"]},
                    {"kind": "compare", "field": "days", "op": "gt", "value": "2"}]}}
            ]
        }))
    }

    #[test]
    fn leave_days_are_working_days_on_the_calendar() {
        let data = json!({"kind": "annual", "period": {"start": "2026-09-30", "end": "2026-10-09", "start_half": "pm"}});
        let form = validate(&leave(), &data, &cal()).expect("valid");
        // 30 Sept afternoon, 8 and 9 Oct: National Day week costs nothing.
        assert_eq!(
            form.computed.get("days"),
            Some(&Value::Number(Decimal::new(25, 1)))
        );
    }

    #[test]
    fn cross_field_rules() {
        let errors = validate(
            &leave(),
            &json!({"kind": "sick", "period": {"start": "2026-03-09", "end": "2026-03-13"},
                    "leaving": "2026-03-09", "back": "2026-03-08"}),
            &cal(),
        )
        .expect_err("invalid");
        assert_eq!(
            paths(&errors),
            vec![
                ("back".into(), MessageKey::NotBefore),
                ("certificate".into(), MessageKey::Required)
            ]
        );
        let data = json!({"kind": "sick", "period": {"start": "2026-03-09", "end": "2026-03-10"}});
        let ok = validate(&leave(), &data, &cal());
        assert!(
            ok.is_ok(),
            "two days of sick leave need no certificate: {ok:?}"
        );
    }

    #[test]
    fn date_range_errors() {
        let cases = [
            (
                json!({"start": "2026-03-10", "end": "2026-03-09"}),
                MessageKey::ReversedRange,
            ),
            (
                json!({"start": "2026-03-10", "end": "2026-03-10", "start_half": "pm", "end_half": "am"}),
                MessageKey::ReversedRange,
            ),
            (
                json!({"start": "2026-01-01", "end": "2026-06-01"}),
                MessageKey::RangeTooLong,
            ),
            (
                json!({"start": "2027-01-04", "end": "2027-01-05"}),
                MessageKey::OutsideCalendar,
            ),
            (
                json!({"start": "2026-13-01", "end": "2026-03-05"}),
                MessageKey::InvalidDate,
            ),
            (
                json!({"start": "2026-03-01", "end": "2026-03-05", "start_half": "noon"}),
                MessageKey::WrongType,
            ),
            (json!({"start": "2026-03-01"}), MessageKey::Required),
        ];
        for (period, key) in cases {
            let errors = validate(
                &leave(),
                &json!({"kind": "annual", "period": period}),
                &cal(),
            )
            .expect_err("invalid");
            assert_eq!(paths(&errors), vec![("period".into(), key)], "{period}");
        }
        let outside = validate(
            &leave(),
            &json!({"kind": "annual", "period": {"start": "2027-01-04", "end": "2027-01-05"}}),
            &cal(),
        )
        .expect_err("outside");
        assert_eq!(
            outside[0].params.get("date").map(String::as_str),
            Some("2027-01-04")
        );
    }

    #[test]
    fn attachments_and_selects() {
        let file = |id: &str, size: u64, ty: &str| json!({"id": id, "name": "a.pdf", "size": size, "content_type": ty});
        let a = "0190f5b0-0000-7000-8000-000000000001";
        let b = "0190f5b0-0000-7000-8000-000000000002";
        assert!(
            validate(
                &leave(),
                &json!({"kind": "sick", "period": {"start": "2026-03-09", "end": "2026-03-13"},
            "certificate": [file(a, 10, "application/pdf"), file(b, 10, "image/png")]}),
                &cal()
            )
            .is_ok()
        );
        let errors = validate(&leave(), &json!({"kind": "holiday", "period": {"start": "2026-03-09", "end": "2026-03-09"},
            "certificate": [file(a, 10, "text/html"), file(b, 5000, "image/png"), file(a, 1, "image/png")]}), &cal())
            .expect_err("invalid");
        assert_eq!(
            paths(&errors),
            vec![
                ("kind".into(), MessageKey::UnknownOption),
                ("certificate".into(), MessageKey::FileTypeNotAllowed),
                ("certificate".into(), MessageKey::FileTooLarge),
                ("certificate".into(), MessageKey::InvalidId),
            ]
        );
    }

    #[test]
    fn patterns_lines_and_whitespace() {
        let s = schema(json!({"fields": [
            {"key": "code", "label": {"zh-CN": "编码", "en": "Code"}, "required": true,
             "type": {"kind": "text", "pattern": "[A-Z]{2}-[0-9]{4}"}},
            {"key": "who", "label": {"zh-CN": "人", "en": "Who"}, "type": {"kind": "person"}},
            {"key": "at", "label": {"zh-CN": "时", "en": "At"}, "type": {"kind": "datetime"}},
            {"key": "tags", "label": {"zh-CN": "标签", "en": "Tags"}, "type": {"kind": "multi_select", "max_selected": 1,
             "options": [{"key": "a", "label": {"zh-CN": "a", "en": "a"}}, {"key": "b", "label": {"zh-CN": "b", "en": "b"}}]}}
        ]}));
        assert!(
            validate(
                &s,
                &json!({"code": "AB-1234", "at": "2026-03-09T09:00:00+08:00"}),
                &cal()
            )
            .is_ok()
        );
        let errors = validate(&s, &json!({"code": "xAB-1234", "who": "not-a-uuid", "at": "yesterday", "tags": ["a", "a"]}), &cal())
            .expect_err("invalid");
        assert_eq!(
            paths(&errors),
            vec![
                ("code".into(), MessageKey::PatternMismatch),
                ("who".into(), MessageKey::InvalidId),
                ("at".into(), MessageKey::InvalidDatetime),
                ("tags".into(), MessageKey::DuplicateOption),
                ("tags".into(), MessageKey::TooManySelected),
            ]
        );
        let errors = validate(&s, &json!({"code": "   "}), &cal()).expect_err("blank");
        assert_eq!(paths(&errors), vec![("code".into(), MessageKey::Required)]);
    }

    #[test]
    fn schema_problems_are_typed() {
        let bad = |json: Json| {
            let schema: FormSchema = serde_json::from_value(json).expect("parses");
            schema
                .check()
                .expect_err("invalid")
                .into_iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
        };
        let label = json!({"zh-CN": "x", "en": "x"});
        assert_eq!(
            bad(json!({"fields": [{"key": "A", "label": label, "type": {"kind": "date"}}]})),
            vec![SchemaErrorCode::InvalidKey]
        );
        assert_eq!(
            bad(
                json!({"fields": [{"key": "a", "label": label, "type": {"kind": "date"}}, {"key": "a", "label": label, "type": {"kind": "date"}}]})
            ),
            vec![SchemaErrorCode::DuplicateKey]
        );
        assert_eq!(
            bad(
                json!({"fields": [{"key": "a", "label": label, "type": {"kind": "text", "pattern": "("}}]})
            ),
            vec![SchemaErrorCode::InvalidPattern]
        );
        assert_eq!(
            bad(
                json!({"fields": [{"key": "a", "label": label, "type": {"kind": "money", "currency": "cny"}}]})
            ),
            vec![SchemaErrorCode::InvalidCurrency]
        );
        assert_eq!(
            bad(
                json!({"fields": [{"key": "t", "label": label, "type": {"kind": "table", "columns": [{"key": "n", "label": label, "type": {"kind": "table", "columns": []}}]}}]})
            ),
            vec![SchemaErrorCode::NestedTable]
        );
        assert_eq!(
            bad(
                json!({"fields": [], "computed": [{"key": "s", "label": label, "formula": {"kind": "sum", "table": "t", "column": "c"}}]})
            ),
            vec![SchemaErrorCode::UnknownReference]
        );
        assert!(
            serde_json::from_value::<FormSchema>(json!({"fields": [], "surprise": 1})).is_err(),
            "unknown schema keys are refused"
        );
        // An invalid schema makes validation report it rather than guess.
        let schema: FormSchema = serde_json::from_value(json!({"fields": [{"key": "a", "label": label, "type": {"kind": "text", "pattern": "("}}]})).expect("parses");
        let errors = validate(&schema, &json!({}), &cal()).expect_err("invalid schema");
        assert_eq!(errors[0].key, MessageKey::InvalidSchema);
    }

    #[test]
    fn valid_form_json_is_stable() {
        let data =
            json!({"title": "T", "lines": [{"amount": {"amount": "1.5", "currency": "CNY"}}]});
        let form = validate(&reimbursement(), &data, &cal()).expect("valid");
        let text = serde_json::to_value(&form).expect("serialises");
        assert_eq!(
            text,
            json!({"values": {
                      "lines": {"kind": "table", "value": [{"amount": {"kind": "money", "value": {"amount": "1.50", "currency": "CNY"}}}]},
                      "title": {"kind": "text", "value": "T"}},
                   "computed": {
                      "total": {"kind": "money", "value": {"amount": "1.50", "currency": "CNY"}},
                      "weighted": {"kind": "money", "value": {"amount": "0.00", "currency": "CNY"}}}})
        );
        let back: ValidForm = serde_json::from_value(text).expect("round trip");
        assert_eq!(back, form);
    }

    #[test]
    fn a_valid_form_borrows_its_texts_and_can_own_them() {
        let data = json!({"kind": "sick", "period": {"start": "2026-03-09", "end": "2026-03-13"},
            "certificate": [{"id": "0190f5b0-0000-7000-8000-000000000001", "name": "诊断.pdf",
                             "size": 10, "content_type": "application/pdf"}]});
        let form = validate(&leave(), &data, &cal()).expect("valid");
        let Some(Value::Choice(kind)) = form.values.get("kind") else {
            panic!("a choice: {form:?}");
        };
        assert!(matches!(kind, Cow::Borrowed("sick")));
        let Some(Value::Attachments(files)) = form.values.get("certificate") else {
            panic!("attachments: {form:?}");
        };
        assert!(matches!(files[0].name, Cow::Borrowed("诊断.pdf")));
        let owned: ValidForm<'static> = form.clone().into_owned();
        assert_eq!(owned, form);
        assert_eq!(
            serde_json::to_value(&owned).expect("serialises"),
            serde_json::to_value(&form).expect("serialises")
        );
        let evaluation = evaluate(&leave(), &data, &cal()).into_owned();
        assert_eq!(evaluation.form, owned);
        assert!(evaluation.errors.is_empty());
    }

    #[test]
    fn rows_find_cells_by_key_however_many() {
        let mut table = Table::default();
        for columns in [3usize, 8, 9, 20, 0] {
            table.push_row((0..columns).rev().map(|i| {
                (
                    Cow::Owned(format!("c{i:02}")),
                    Value::Number(Decimal::from(i)),
                )
            }));
        }
        // A key given twice keeps its first value.
        table.push_row([
            ("b".into(), Value::Text("first".into())),
            ("a".into(), Value::Text("a".into())),
            ("b".into(), Value::Text("second".into())),
        ]);
        assert_eq!(table.len(), 6);
        assert_eq!(table.rows().len(), 6);
        let last = table.row(5).expect("row 5");
        assert_eq!(last.len(), 2);
        assert_eq!(last.get("b"), Some(&Value::Text("first".into())));
        assert!(table.row(4).is_some_and(|r| r.is_empty()) && table.row(6).is_none());
        for (row, columns) in table.rows().zip([3usize, 8, 9, 20, 0]) {
            assert_eq!(row.len(), columns);
            for i in 0..columns {
                assert_eq!(
                    row.get(&format!("c{i:02}")),
                    Some(&Value::Number(Decimal::from(i)))
                );
            }
            assert_eq!(row.get("c"), None);
            assert_eq!(row.get("zz"), None);
            let keys: Vec<&str> = row.iter().map(|(k, _)| k).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted: {keys:?}");
        }
    }

    #[test]
    fn no_whitespace_character_starts_with_a_byte_said_not_to_start_one() {
        let mut buffer = [0u8; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let lead = c.encode_utf8(&mut buffer).as_bytes()[0];
            assert!(
                !(c.is_whitespace() && starts_no_whitespace(lead)),
                "{c:?} is whitespace"
            );
        }
        assert!(starts_no_whitespace("出".as_bytes()[0]) && starts_no_whitespace(b'a'));
    }

    #[test]
    fn files_and_tables_read_and_write_the_json_they_always_did() {
        let file = |n: u128| AttachmentRef {
            id: Uuid::from_u128(n),
            name: format!("{n}.pdf").into(),
            size: 10,
            content_type: "application/pdf".into(),
        };
        for count in 0..4u128 {
            let list: Vec<AttachmentRef> = (1..=count).map(file).collect();
            let files = Files::from(list.clone());
            assert_eq!(files.as_slice(), list.as_slice());
            assert_eq!(&*files, &*(1..=count).map(file).collect::<Files>());
            let mut pushed = Files::default();
            list.iter().cloned().for_each(|f| pushed.push(f));
            assert_eq!(pushed, files);
            assert_eq!(files.clone().into_vec(), list);
            assert_eq!((&files).into_iter().count(), list.len());
            let json = serde_json::to_value(Value::Attachments(files.clone())).expect("json");
            assert_eq!(json, json!({"kind": "attachments", "value": list}));
            let back: Value = serde_json::from_value(json).expect("parses");
            assert_eq!(back, Value::Attachments(files.into_owned()));
        }

        let data = json!({"title": "T", "lines": [
            {"amount": {"amount": "1.5", "currency": "CNY"}, "day": "2026-03-09", "quantity": "2"},
            {"quantity": 3, "amount": {"amount": "2", "currency": "CNY"}}
        ]});
        let form = validate(&reimbursement(), &data, &cal()).expect("valid");
        let Some(Value::Table(table)) = form.values.get("lines") else {
            panic!("a table: {form:?}");
        };
        assert_eq!(table.len(), 2);
        let keys = |row: Row| row.iter().map(|(k, _)| k.to_owned()).collect::<Vec<_>>();
        assert_eq!(
            table.rows().map(keys).collect::<Vec<_>>(),
            [
                vec!["amount", "day", "quantity"],
                vec!["amount", "quantity"]
            ]
        );
        let json = serde_json::to_value(&form).expect("json");
        assert_eq!(
            json["values"]["lines"],
            json!({"kind": "table", "value": [
                {"amount": {"kind": "money", "value": {"amount": "1.50", "currency": "CNY"}},
                 "day": {"kind": "date", "value": "2026-03-09"},
                 "quantity": {"kind": "number", "value": "2"}},
                {"amount": {"kind": "money", "value": {"amount": "2.00", "currency": "CNY"}},
                 "quantity": {"kind": "number", "value": "3"}}
            ]})
        );
        let back: ValidForm = serde_json::from_value(json).expect("parses");
        assert_eq!(back, form);
        let empty: Table = serde_json::from_value(json!([])).expect("parses");
        assert!(empty.is_empty() && empty.rows().next().is_none());
        assert_eq!(serde_json::to_value(&empty).expect("json"), json!([]));
    }

    /// The decimal parser as it was before its fast path, followed by the normalisation that
    /// used to follow it: the reference it must agree with, bit for bit.
    fn reference_parse_decimal(text: &str) -> Result<Decimal, DecimalProblem> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(DecimalProblem::Invalid);
        }
        if whole.trim_start_matches('0').len() > 13 || fraction.is_some_and(|f| f.len() > 20) {
            return Err(DecimalProblem::OutOfRange);
        }
        text.parse::<Decimal>()
            .map(|d| d.normalize())
            .map_err(|_| DecimalProblem::Invalid)
    }

    fn same_parse(text: &str) -> Result<(), String> {
        let describe = |r: Result<Decimal, DecimalProblem>| match r {
            Ok(d) => format!("{:?}", d.serialize()),
            Err(DecimalProblem::Invalid) => "invalid".into(),
            Err(DecimalProblem::OutOfRange) => "out of range".into(),
        };
        let (got, want) = (
            describe(parse_decimal(text)),
            describe(reference_parse_decimal(text)),
        );
        if got == want {
            Ok(())
        } else {
            Err(format!("{text:?}: {got} != {want}"))
        }
    }

    #[test]
    fn decimal_parsing_agrees_with_the_general_parser_at_the_edges() {
        for text in [
            "0",
            "-0",
            "-0.00",
            "00",
            "0.0",
            "12.50",
            "-12.5",
            "1.",
            ".5",
            "-",
            "--1",
            "+1",
            "1e3",
            "1_000",
            " 1",
            "1.2.3",
            "٣",
            "",
            "1000000000000",
            "1000000000000.01",
            "9999999999999",
            "10000000000000",
            "0000000000000000000001.5",
            "9999999999999.999999",
            "999999999999.9999999",
            "1844674407370.9551615",
            "1844674407370.95516159",
            "0.12345678901234567890",
            "0.123456789012345678901",
            "1234567890123.12345678901234567890",
            "-9999999999999.9999999999",
        ] {
            same_parse(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn decimal_parsing_agrees_with_the_general_parser(
            text in "-?[0-9]{0,15}(\\.[0-9]{0,22})?|-?0{0,8}[0-9]{1,14}\\.[0-9]{1,8}|[-+.0-9e ]{0,8}"
        ) {
            proptest::prop_assert!(same_parse(&text).is_ok(), "{}", same_parse(&text).unwrap_err());
        }

        #[test]
        fn text_helpers_agree_with_the_standard_library(
            text in "[ \t\n\r\u{0B}\u{0C}\u{85}\u{3000}a-c字;]{0,40}|\\PC{0,40}"
        ) {
            proptest::prop_assert_eq!(blank(&text), text.chars().all(char::is_whitespace));
            proptest::prop_assert_eq!(trim(&text), text.trim());
            proptest::prop_assert_eq!(has_line_break(&text), text.contains(['\n', '\r']));
        }

        #[test]
        fn decimal_helpers_agree_with_decimal_arithmetic(
            a in proptest::num::i64::ANY, b in proptest::num::i64::ANY,
            sa in 0u32..29, sb in 0u32..29, big in proptest::bool::ANY,
        ) {
            let widen = |m: i64| if big { i128::from(m) * 1_000_000_007 } else { i128::from(m) };
            let (x, y) = (Decimal::from_i128_with_scale(widen(a), sa), Decimal::from_i128_with_scale(widen(b), sb));
            proptest::prop_assert_eq!(compare(x, y), x.cmp(&y));
            proptest::prop_assert_eq!(compare(x, x), std::cmp::Ordering::Equal);
            proptest::prop_assert_eq!(within_limit(x), x.abs() <= AMOUNT_LIMIT);
        }
    }
}
