//! What the core says, in the person's language, when it refuses an action on this device
//! without asking the server (a decision on a task that is not theirs, an answer to a
//! cancelled meeting). The desktop and the CLI show these texts as they are, so they are
//! whole sentences in both catalogue languages; the code (`refused`, `invalid_input`) is what
//! programs read.

use countersign_domain::engine::RequestStatus;
use countersign_domain::messages::Locale;

/// One refusal, with what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<'a> {
    NoTaskForYou {
        title: &'a str,
    },
    NoTaskForYouFinished {
        title: &'a str,
        status: RequestStatus,
    },
    OnlyInitiator {
        title: &'a str,
        action: &'a str,
    },
    AlreadyFinished {
        title: &'a str,
        status: RequestStatus,
    },
    NotReturned {
        title: &'a str,
        status: RequestStatus,
    },
    SayWhy {
        action: &'a str,
    },
    EmptyComment,
    MeetingCancelled {
        title: &'a str,
    },
    NotInvited {
        title: &'a str,
    },
    OnlyOrganiser {
        title: &'a str,
    },
    MeetingChangedElsewhere {
        title: &'a str,
    },
}

/// A request's status as a past participle ("approved", "已通过").
fn status_word(status: RequestStatus, locale: Locale) -> &'static str {
    match (status, locale) {
        (RequestStatus::Draft, Locale::En) => "a draft",
        (RequestStatus::InProgress, Locale::En) => "in progress",
        (RequestStatus::Returned, Locale::En) => "returned",
        (RequestStatus::Approved, Locale::En) => "approved",
        (RequestStatus::Rejected, Locale::En) => "rejected",
        (RequestStatus::Withdrawn, Locale::En) => "withdrawn",
        (RequestStatus::Draft, Locale::ZhCn) => "草稿",
        (RequestStatus::InProgress, Locale::ZhCn) => "审批中",
        (RequestStatus::Returned, Locale::ZhCn) => "已退回",
        (RequestStatus::Approved, Locale::ZhCn) => "已通过",
        (RequestStatus::Rejected, Locale::ZhCn) => "已驳回",
        (RequestStatus::Withdrawn, Locale::ZhCn) => "已撤回",
    }
}

/// An action's verb, as `Act::name` gives it ("approve" → "同意").
fn action_word(action: &str, locale: Locale) -> &str {
    if locale == Locale::En {
        return action;
    }
    match action {
        "approve" => "同意",
        "reject" => "驳回",
        "return" => "退回",
        "transfer" => "转交",
        "withdraw" => "撤回",
        "urge" => "催办",
        "comment" => "评论",
        "resubmit" => "重新提交",
        other => other,
    }
}

impl Refusal<'_> {
    /// The sentence in `locale`.
    pub fn text(&self, locale: Locale) -> String {
        let zh = locale == Locale::ZhCn;
        match *self {
            Self::NoTaskForYou { title } if zh => format!("“{title}”没有待你处理的任务。"),
            Self::NoTaskForYou { title } => format!("“{title}” has no task pending for you."),
            Self::NoTaskForYouFinished { title, status } if zh => format!(
                "“{title}”没有待你处理的任务（{}）。",
                status_word(status, locale)
            ),
            Self::NoTaskForYouFinished { title, status } => format!(
                "“{title}” has no task pending for you (it is {}).",
                status_word(status, locale)
            ),
            Self::OnlyInitiator { title, action } if zh => {
                format!("只有“{title}”的提交人可以{}。", action_word(action, locale))
            }
            Self::OnlyInitiator { title, action } => {
                format!("Only the person who submitted “{title}” can {action} it.")
            }
            Self::AlreadyFinished { title, status } if zh => {
                format!("“{title}”{}。", status_word(status, locale))
            }
            Self::AlreadyFinished { title, status } => {
                format!("“{title}” is already {}.", status_word(status, locale))
            }
            Self::NotReturned { title, status } if zh => format!(
                "“{title}”{}，没有被退回，无需重新提交。",
                status_word(status, locale)
            ),
            Self::NotReturned { title, status } => format!(
                "“{title}” is {}, not returned to you: there is nothing to resubmit.",
                status_word(status, locale)
            ),
            Self::SayWhy { action } if zh => {
                format!("{}需要写明理由。", action_word(action, locale))
            }
            Self::SayWhy { action } => format!("To {action}, say why in the comment."),
            Self::EmptyComment if zh => "评论不能为空。".to_owned(),
            Self::EmptyComment => "A comment needs some text.".to_owned(),
            Self::MeetingCancelled { title } if zh => format!("“{title}”已取消。"),
            Self::MeetingCancelled { title } => format!("“{title}” was cancelled."),
            Self::NotInvited { title } if zh => format!("你没有受邀参加“{title}”。"),
            Self::NotInvited { title } => format!("You are not invited to “{title}”."),
            Self::OnlyOrganiser { title } if zh => format!("只有组织者可以修改“{title}”。"),
            Self::OnlyOrganiser { title } => format!("Only the organiser can change “{title}”."),
            Self::MeetingChangedElsewhere { title } if zh => {
                format!("“{title}”在你上次同步后已被修改；请重新查看后再改。")
            }
            Self::MeetingChangedElsewhere { title } => format!(
                "“{title}” was changed elsewhere since this device last synced it; look at it \
                 again and repeat your change."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_in_both_languages_with_what_it_names() {
        let all = [
            Refusal::NoTaskForYou { title: "年假" },
            Refusal::NoTaskForYouFinished {
                title: "年假",
                status: RequestStatus::Approved,
            },
            Refusal::OnlyInitiator {
                title: "年假",
                action: "withdraw",
            },
            Refusal::AlreadyFinished {
                title: "年假",
                status: RequestStatus::Rejected,
            },
            Refusal::NotReturned {
                title: "年假",
                status: RequestStatus::InProgress,
            },
            Refusal::MeetingCancelled { title: "年假" },
            Refusal::NotInvited { title: "年假" },
            Refusal::OnlyOrganiser { title: "年假" },
            Refusal::MeetingChangedElsewhere { title: "年假" },
        ];
        for refusal in &all {
            let (zh, en) = (refusal.text(Locale::ZhCn), refusal.text(Locale::En));
            assert!(
                zh.contains("“年假”") && en.contains("“年假”"),
                "{zh} / {en}"
            );
            assert_ne!(zh, en);
            let (zh_own, en_own) = (zh.replace("年假", ""), en.replace("年假", ""));
            assert!(
                en_own.chars().all(|c| c.is_ascii() || c == '“' || c == '”'),
                "English throughout: {en}"
            );
            assert!(
                zh_own
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "Chinese words, not only the title: {zh}"
            );
        }
        assert_eq!(
            Refusal::NoTaskForYouFinished {
                title: "年假",
                status: RequestStatus::Approved
            }
            .text(Locale::ZhCn),
            "“年假”没有待你处理的任务（已通过）。"
        );
        assert_eq!(
            Refusal::SayWhy { action: "reject" }.text(Locale::ZhCn),
            "驳回需要写明理由。"
        );
        assert_eq!(
            Refusal::SayWhy { action: "reject" }.text(Locale::En),
            "To reject, say why in the comment."
        );
    }
}
