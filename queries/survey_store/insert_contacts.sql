-- A round's invitation addresses, from the registered frame `new_contacts` (round_id, agency_id, email).
insert into contacts select round_id, agency_id, email from new_contacts
