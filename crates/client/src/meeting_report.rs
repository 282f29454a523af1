//! The invitation coverage report (issue 7, point 4; S14 made measurable): for each meeting
//! and each month, how many people were invited, reached, opened the invitation and answered,
//! with the stragglers named from the directory so an organiser can chase them. Online: the
//! server keeps the ledger. Organisers see their own meetings; report readers see everyone's.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use countersign_api::meetings::{CoverageMonth, CoverageReport};
use countersign_domain::meetings::MeetingStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::cache::Cache;
use crate::error::Result;
use crate::meetings::local;
use crate::views::PersonRef;

/// One meeting's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingCoverageLine {
    pub meeting_id: Uuid,
    pub title: String,
    pub organiser: PersonRef,
    pub starts_at: DateTime<Utc>,
    /// The start in the reader's zone, `YYYY-MM-DD HH:MM`.
    pub local_start: String,
    pub status: MeetingStatus,
    pub invited: u32,
    pub reached: u32,
    pub reached_before_start: u32,
    pub opened: u32,
    pub answered: u32,
    pub accepted: u32,
    pub tentative: u32,
    pub declined: u32,
    pub materials: u32,
    pub materials_in_time: bool,
    /// reached / invited in per mille (1000 when nobody was invited).
    pub reached_per_mille: u32,
    pub not_reached: Vec<PersonRef>,
    pub not_answered: Vec<PersonRef>,
}

/// One month's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CoverageMonthLine {
    /// `YYYY-MM`, by the meetings' start in UTC.
    pub month: String,
    pub meetings: u32,
    pub invited: u32,
    pub reached: u32,
    pub opened: u32,
    pub answered: u32,
    pub reached_per_mille: u32,
}

impl From<&CoverageMonth> for CoverageMonthLine {
    fn from(m: &CoverageMonth) -> Self {
        Self {
            month: m.month.clone(),
            meetings: m.meetings,
            invited: m.invited,
            reached: m.reached,
            opened: m.opened,
            answered: m.answered,
            reached_per_mille: m.reached_per_mille,
        }
    }
}

/// The report as the reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingCoverageView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub time_zone: String,
    pub meetings: Vec<MeetingCoverageLine>,
    pub months: Vec<CoverageMonthLine>,
}

/// reached / invited in per mille, rounded down; 1000 for a meeting nobody was invited to.
fn per_mille(part: u32, whole: u32) -> u32 {
    if whole == 0 {
        1000
    } else {
        u32::try_from(u64::from(part) * 1000 / u64::from(whole)).unwrap_or(1000)
    }
}

impl Client {
    /// The coverage of meetings starting in `[from, to)`, times in `zone`.
    pub async fn meeting_coverage(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
    ) -> Result<MeetingCoverageView> {
        let report: CoverageReport = self
            .authed(|api, access| async move { api.meeting_coverage(&access, from, to).await })
            .await?;
        let (cache, _) = self.open_cache().await?;
        let mut meetings = Vec::with_capacity(report.meetings.len());
        for m in &report.meetings {
            let not_reached = self.people_named(&cache, &m.not_reached).await;
            let not_answered = self.people_named(&cache, &m.not_answered).await;
            meetings.push(MeetingCoverageLine {
                meeting_id: m.meeting_id,
                title: m.title.clone(),
                organiser: self.person_named(&cache, m.organiser_id).await,
                starts_at: m.starts_at,
                local_start: local(m.starts_at, zone),
                status: m.status,
                invited: m.invited,
                reached: m.reached,
                reached_before_start: m.reached_before_start,
                opened: m.opened,
                answered: m.answered,
                accepted: m.accepted,
                tentative: m.tentative,
                declined: m.declined,
                materials: m.materials,
                materials_in_time: m.materials_in_time,
                reached_per_mille: per_mille(m.reached, m.invited),
                not_reached,
                not_answered,
            });
        }
        Ok(MeetingCoverageView {
            from: report.from,
            to: report.to,
            time_zone: zone.name().to_owned(),
            meetings,
            months: report.months.iter().map(CoverageMonthLine::from).collect(),
        })
    }

    async fn person_named(&self, cache: &Cache, id: Uuid) -> PersonRef {
        PersonRef {
            id,
            name: self.name_of(cache, id).await,
        }
    }

    async fn people_named(&self, cache: &Cache, ids: &[Uuid]) -> Vec<PersonRef> {
        let mut people = Vec::with_capacity(ids.len());
        for id in ids {
            people.push(self.person_named(cache, *id).await);
        }
        people
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_mille_rounds_down_and_an_empty_meeting_counts_as_reached() {
        assert_eq!(per_mille(199, 200), 995);
        assert_eq!(per_mille(2, 3), 666);
        assert_eq!(per_mille(0, 0), 1000);
        assert_eq!(per_mille(u32::MAX, u32::MAX), 1000);
    }
}
