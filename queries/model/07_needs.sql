-- needs: assessed need by region, service type and month (month = its first day).
create table needs (
    region varchar not null,
    service_type varchar not null,
    month date not null,
    people_in_need integer not null,
    source varchar
)
