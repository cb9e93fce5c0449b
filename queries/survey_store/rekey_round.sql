-- A round given a new secret: every link made with the old one stops working.
update rounds set secret = $secret where round_id = $round_id
