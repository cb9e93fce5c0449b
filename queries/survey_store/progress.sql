-- One row per member of a round: whether it has answered (a complete partner row or "named nobody";
-- drafts alone do not count), how many partners it named in full, and when it last saved.
select
    m.agency_id,
    m.name,
    m.victim_service,
    coalesce(bool_or(a.round_id is not null and (a.partner_agency_id is null
        or (a.frequency is not null and a.level is not null and a.agreement is not null))), false) as responded,
    count(a.partner_agency_id) filter (where a.frequency is not null and a.level is not null
        and a.agreement is not null) as partners_named,
    max(a.submitted_at) as last_saved
from members as m
left join answers as a on a.round_id = m.round_id and a.respondent_agency_id = m.agency_id
where m.round_id = $round_id
group by m.agency_id, m.name, m.victim_service
order by m.name, m.agency_id
