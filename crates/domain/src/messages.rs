//! The message catalogue: every key that a field error or a refusal carries, with its zh-CN
//! and English text.
//!
//! Errors travel as keys plus parameters, never as sentences, so a client shows them in the
//! user's language whatever language the server speaks. Keys are stable snake_case strings:
//! renaming one breaks every client that has it cached, so add keys, never rename them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A language the catalogue speaks (requirement D8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    #[serde(rename = "zh-CN")]
    #[default]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    /// Picks the catalogue language for an OS or browser language tag (`zh-Hans-CN`,
    /// `zh_CN.UTF-8`, `en-GB`…); anything not Chinese falls back to English.
    pub fn from_tag(tag: &str) -> Self {
        if tag.trim().to_ascii_lowercase().starts_with("zh") {
            Self::ZhCn
        } else {
            Self::En
        }
    }
}

macro_rules! catalogue {
    ($( $variant:ident => $code:literal, $zh:literal, $en:literal; )*) => {
        /// A stable message key. Its serde form is the snake_case code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum MessageKey {
            $( $variant, )*
        }

        impl MessageKey {
            /// Every key, for catalogue completeness tests and for clients that prefetch.
            pub const ALL: &'static [MessageKey] = &[$( MessageKey::$variant, )*];

            /// The stable code, identical to the serde form.
            pub fn code(self) -> &'static str {
                match self { $( MessageKey::$variant => $code, )* }
            }

            /// The key of a stable code, as a client receives it from the server.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some(MessageKey::$variant), )* _ => None }
            }

            /// The message template in `locale`; `{name}` marks a parameter.
            pub fn template(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $( (MessageKey::$variant, Locale::ZhCn) => $zh,
                       (MessageKey::$variant, Locale::En) => $en, )*
                }
            }
        }
    };
}

catalogue! {
    // Form validation.
    Required => "required", "此项为必填项", "This field is required";
    WrongType => "wrong_type", "格式不正确，应为{expected}", "Wrong type: expected {expected}";
    UnknownField => "unknown_field", "表单中没有此项", "This form has no such field";
    ReadOnly => "read_only", "此项由系统计算，不能填写", "This field is calculated and cannot be entered";
    TooShort => "too_short", "至少需要 {min} 个字符", "Enter at least {min} characters";
    TooLong => "too_long", "不能超过 {max} 个字符", "Enter at most {max} characters";
    NoLineBreaks => "no_line_breaks", "此项不能换行", "This field cannot contain line breaks";
    PatternMismatch => "pattern_mismatch", "格式不符合要求", "This value does not have the required format";
    BelowMin => "below_min", "不能小于 {min}", "Must be at least {min}";
    AboveMax => "above_max", "不能大于 {max}", "Must be at most {max}";
    Negative => "negative", "不能为负数", "Cannot be negative";
    TooManyDecimals => "too_many_decimals", "最多 {max} 位小数", "At most {max} decimal places";
    AmountOutOfRange => "amount_out_of_range", "金额超出允许范围（±1,000,000,000,000）", "Amount is out of range (±1,000,000,000,000)";
    CurrencyMismatch => "currency_mismatch", "币种应为 {expected}", "Currency must be {expected}";
    InvalidNumber => "invalid_number", "请输入有效的数字", "Enter a valid number";
    InvalidDate => "invalid_date", "请输入有效日期（年-月-日）", "Enter a valid date (YYYY-MM-DD)";
    InvalidDatetime => "invalid_datetime", "请输入有效的日期时间", "Enter a valid date and time";
    ReversedRange => "reversed_range", "结束时间不能早于开始时间", "The end cannot be before the start";
    HalfDayNotAllowed => "half_day_not_allowed", "此项不支持半天", "Half days are not allowed here";
    RangeTooLong => "range_too_long", "时间跨度不能超过 {max} 天", "The range cannot exceed {max} days";
    OutsideCalendar => "outside_calendar", "{date} 超出工作日历的范围，请联系管理员更新日历", "{date} is outside the working-day calendar; ask an administrator to load that year";
    UnknownOption => "unknown_option", "不是可选的选项", "Not one of the available options";
    DuplicateOption => "duplicate_option", "选项重复", "This option is selected twice";
    TooFewSelected => "too_few_selected", "至少选择 {min} 项", "Select at least {min}";
    TooManySelected => "too_many_selected", "最多选择 {max} 项", "Select at most {max}";
    InvalidId => "invalid_id", "无效的标识", "Not a valid identifier";
    TooFewRows => "too_few_rows", "至少需要 {min} 行", "Add at least {min} rows";
    TooManyRows => "too_many_rows", "最多 {max} 行", "At most {max} rows";
    TooFewFiles => "too_few_files", "至少上传 {min} 个附件", "Attach at least {min} files";
    TooManyFiles => "too_many_files", "最多上传 {max} 个附件", "Attach at most {max} files";
    FileTooLarge => "file_too_large", "附件不能超过 {max} 字节", "A file cannot exceed {max} bytes";
    FileTypeNotAllowed => "file_type_not_allowed", "不支持此附件类型", "This file type is not accepted";
    NotBefore => "not_before", "不能早于「{other}」", "Cannot be before “{other}”";
    InvalidSchema => "invalid_schema", "表单定义有误：{detail}", "The form definition is invalid: {detail}";
    // Engine refusals: why an action did not happen, worded for the person who tried it.
    NotYourTurn => "not_your_turn", "还没有轮到您处理", "It is not your turn on this request";
    AlreadyDecided => "already_decided", "该节点已由他人处理", "This step was already decided by someone else";
    RequestWithdrawn => "request_withdrawn", "申请人已撤回该申请", "The initiator withdrew this request";
    RequestFinished => "request_finished", "该申请已结束", "This request is already finished";
    NotPermitted => "not_permitted", "您无权执行此操作", "You are not permitted to do this";
    NotSubmitted => "not_submitted", "该申请尚未提交", "This request has not been submitted";
    AlreadySubmitted => "already_submitted", "该申请已提交", "This request was already submitted";
    NotReturned => "not_returned", "只有被退回的申请才能重新提交", "Only a returned request can be resubmitted";
    UnknownTask => "unknown_task", "找不到该待办", "No such task on this request";
    InvalidForm => "invalid_form", "表单有错误，请修改后再提交", "The form has errors; correct them and submit again";
    NoApprover => "no_approver", "节点「{step}」找不到审批人", "No approver could be found for step “{step}”";
    NoPreviousStep => "no_previous_step", "没有可退回的上一节点", "There is no previous step to return to";
    ReturnNotAllowed => "return_not_allowed", "此节点不能退回到该位置", "This step cannot return the request there";
    UrgedRecently => "urged_recently", "刚刚催办过，请稍后再试", "You urged this recently; try again later";
    InvalidSigner => "invalid_signer", "不能添加此人为审批人", "This person cannot be added as a signer";
    InvalidTransfer => "invalid_transfer", "不能转交给此人", "The task cannot be transferred to this person";
    CommentEmpty => "comment_empty", "请填写意见", "Enter a comment";
    CommentTooLong => "comment_too_long", "意见不能超过 {max} 个字符", "A comment cannot exceed {max} characters";
    DefinitionInvalid => "definition_invalid", "流程定义有误：{detail}", "The workflow definition is invalid: {detail}";
    // The server's own refusals of a queued change (not the engine's), so that a client shows
    // them in its person's language; the server's English sentence may say more (ids, versions).
    TemplateRetired => "template_retired", "该表单版本已停用，请按当前版本重新发起申请", "This version of the form was retired; start the request again on the current version";
    UnknownTemplate => "unknown_template", "服务器上没有此表单", "The server has no such form";
    AttachmentUnknown => "attachment_unknown", "有附件不是您为此申请上传的文件，请重新上传", "An attachment is not a file you uploaded for this request; upload it again";
    AttachmentMismatch => "attachment_mismatch", "有附件与上传的文件不一致，请重新添加", "An attachment differs from the file uploaded; attach the file again";
    IdTaken => "id_taken", "该编号已被占用", "That id is already in use";
    MeetingCancelled => "meeting_cancelled", "该会议已取消", "This meeting was cancelled";
    MeetingOver => "meeting_over", "该会议已结束，无法再回复", "This meeting is over; it cannot be answered any more";
    NotInvited => "not_invited", "您不在该会议的邀请名单中", "You are not invited to this meeting";
    NoteTooLong => "note_too_long", "备注过长", "The note is too long";
    UnknownMutation => "unknown_mutation", "服务器无法识别此类更改，请升级服务器或放弃此更改", "The server does not know this kind of change; update the server or discard it";
    MalformedPayload => "malformed_payload", "此更改的内容无法识别，请放弃后重做", "This change could not be read; discard it and make it again";
    Unavailable => "unavailable", "服务器暂时无法处理，请稍后重试", "The server cannot handle this right now; try again later";
}

impl MessageKey {
    /// The message in `locale` with `{name}` parameters filled in; a parameter that was not
    /// supplied is left visible rather than silently dropped.
    pub fn render(self, locale: Locale, params: &BTreeMap<String, String>) -> String {
        let template = self.template(locale);
        if params.is_empty() {
            return template.to_owned();
        }
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match params.get(name) {
                        Some(value) => out.push_str(value),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_texts_and_a_serde_form_equal_to_its_code() {
        for key in MessageKey::ALL {
            assert!(!key.template(Locale::ZhCn).is_empty());
            assert!(!key.template(Locale::En).is_empty());
            let json = serde_json::to_string(key).expect("serialises");
            assert_eq!(
                json,
                format!("\"{}\"", key.code()),
                "serde form is the code"
            );
            // Placeholders must agree between languages, or one translation loses a value.
            let names = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split('}').next().map(str::to_owned))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(
                names(key.template(Locale::ZhCn)),
                names(key.template(Locale::En)),
                "{key:?}"
            );
        }
    }

    #[test]
    fn every_code_finds_its_key_and_an_unknown_code_none() {
        for key in MessageKey::ALL {
            assert_eq!(MessageKey::from_code(key.code()), Some(*key));
        }
        assert_eq!(MessageKey::from_code("no_such_code"), None);
    }

    #[test]
    fn render_fills_parameters_and_keeps_missing_ones_visible() {
        let params = BTreeMap::from([("max".to_owned(), "200".to_owned())]);
        assert_eq!(
            MessageKey::TooLong.render(Locale::En, &params),
            "Enter at most 200 characters"
        );
        assert_eq!(
            MessageKey::TooLong.render(Locale::ZhCn, &params),
            "不能超过 200 个字符"
        );
        assert_eq!(
            MessageKey::BelowMin.render(Locale::En, &BTreeMap::new()),
            "Must be at least {min}"
        );
    }

    #[test]
    fn locale_from_os_tags() {
        assert_eq!(Locale::from_tag("zh-Hans-CN"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("zh_CN.UTF-8"), Locale::ZhCn);
        assert_eq!(Locale::from_tag("en-GB"), Locale::En);
        assert_eq!(Locale::from_tag(""), Locale::En);
    }
}
