-- Every answer of the respondents of the registered frame `respondents` (agency_id) in one round.
delete from answers
where round_id = $round_id and respondent_agency_id in (select agency_id from respondents)
