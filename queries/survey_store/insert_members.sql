-- A round's members, from the registered frame `new_members` (round_id, agency_id, name, victim_service).
insert into members select round_id, agency_id, name, victim_service from new_members
