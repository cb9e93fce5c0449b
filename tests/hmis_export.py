"""HMIS CSV exports written in the tests, from the HUD specification (HMIS CSV Format Specifications FY2024).

Every file the import reads, and `Client.csv`, carries every column the specification lists for it, in
its order; the files are written as real exports are: every field quoted, CRLF line ends, a UTF-8
byte-order mark, timestamps `YYYY-MM-DD HH:MM:SS`. A cell left out is empty. `Export.add` fills the
bookkeeping columns (DateCreated, DateUpdated, UserID, ExportID) so a test states only what matters.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# The columns of each file, in the specification's order (FY2024).
COLUMNS = {
    "Export": "ExportID SourceType SourceID SourceName SourceContactFirst SourceContactLast SourceContactPhone "
              "SourceContactExtension SourceContactEmail ExportDate ExportStartDate ExportEndDate SoftwareName "
              "SoftwareVersion CSVVersion ExportPeriodType ExportDirective HashStatus ImplementationID",
    "Organization": "OrganizationID OrganizationName VictimServiceProvider OrganizationCommonName DateCreated "
                    "DateUpdated UserID DateDeleted ExportID",
    "User": "UserID UserFirstName UserLastName UserPhone UserExtension UserEmail DateCreated DateUpdated DateDeleted "
            "ExportID",
    "Funder": "FunderID ProjectID Funder OtherFunder GrantID StartDate EndDate DateCreated DateUpdated UserID "
              "DateDeleted ExportID",
    "Project": "ProjectID OrganizationID ProjectName ProjectCommonName OperatingStartDate OperatingEndDate "
               "ContinuumProject ProjectType HousingType RRHSubType ResidentialAffiliation TargetPopulation "
               "HOPWAMedAssistedLivingFac PITCount DateCreated DateUpdated UserID DateDeleted ExportID",
    "ProjectCoC": "ProjectCoCID ProjectID CoCCode Geocode Address1 Address2 City State ZIP GeographyType "
                  "DateCreated DateUpdated UserID DateDeleted ExportID",
    "Inventory": "InventoryID ProjectID CoCCode HouseholdType Availability UnitInventory BedInventory "
                 "CHVetBedInventory YouthVetBedInventory VetBedInventory CHYouthBedInventory YouthBedInventory "
                 "CHBedInventory OtherBedInventory ESBedType InventoryStartDate InventoryEndDate DateCreated "
                 "DateUpdated UserID DateDeleted ExportID",
    "Client": "PersonalID FirstName MiddleName LastName NameSuffix NameDataQuality SSN SSNDataQuality DOB "
              "DOBDataQuality AmIndAKNative Asian BlackAfAmerican HispanicLatinaeo MidEastNAfrican NativeHIPacific "
              "White RaceNone AdditionalRaceEthnicity Woman Man NonBinary CulturallySpecific Transgender Questioning "
              "DifferentIdentity GenderNone DifferentIdentityText VeteranStatus YearEnteredService YearSeparated "
              "WorldWarII KoreanWar VietnamWar DesertStorm AfghanistanOEF IraqOIF IraqOND OtherTheater "
              "MilitaryBranch DischargeStatus DateCreated DateUpdated UserID DateDeleted ExportID",
    "Enrollment": "EnrollmentID PersonalID ProjectID EntryDate HouseholdID RelationshipToHoH EnrollmentCoC "
                  "LivingSituation RentalSubsidyType LengthOfStay LOSUnderThreshold PreviousStreetESSH "
                  "DateToStreetESSH TimesHomelessPastThreeYears MonthsHomelessPastThreeYears DisablingCondition "
                  "DateOfEngagement MoveInDate DateOfPATHStatus ClientEnrolledInPATH ReasonNotEnrolled PercentAMI "
                  "ReferralSource CountOutreachReferralApproaches DateOfBCPStatus EligibleForRHY ReasonNoServices "
                  "RunawayYouth SexualOrientation SexualOrientationOther FormerWardChildWelfare ChildWelfareYears "
                  "ChildWelfareMonths FormerWardJuvenileJustice JuvenileJusticeYears JuvenileJusticeMonths "
                  "UnemploymentFam MentalHealthDisorderFam PhysicalDisabilityFam AlcoholDrugUseDisorderFam "
                  "InsufficientIncome IncarceratedParent VAMCStation TargetScreenReqd TimeToHousingLoss "
                  "AnnualPercentAMI LiteralHomelessHistory ClientLeaseholder HOHLeaseholder SubsidyAtRisk "
                  "EvictionHistory CriminalRecord IncarceratedAdult PrisonDischarge SexOffender DisabledHoH "
                  "CurrentPregnant SingleParent DependentUnder6 HH5Plus CoCPrioritized HPScreeningScore ThresholdScore "
                  "TranslationNeeded PreferredLanguage PreferredLanguageDifferent DateCreated DateUpdated UserID "
                  "DateDeleted ExportID",
    "Exit": "ExitID EnrollmentID PersonalID ExitDate Destination DestinationSubsidyType OtherDestination "
            "HousingAssessment SubsidyInformation ProjectCompletionStatus EarlyExitReason ExchangeForSex "
            "ExchangeForSexPastThreeMonths CountOfExchangeForSex AskedOrForcedToExchangeForSex "
            "AskedOrForcedToExchangeForSexPastThreeMonths WorkplaceViolenceThreats WorkplacePromiseDifference "
            "CoercedToContinueWork LaborExploitPastThreeMonths CounselingReceived IndividualCounseling "
            "FamilyCounseling GroupCounseling SessionCountAtExit PostExitCounselingPlan SessionsInPlan "
            "DestinationSafeClient DestinationSafeWorker PosAdultConnections PosPeerConnections "
            "PosCommunityConnections AftercareDate AftercareProvided EmailSocialMedia Telephone InPersonIndividual "
            "InPersonGroup CMExitReason DateCreated DateUpdated UserID DateDeleted ExportID",
    "Services": "ServicesID EnrollmentID PersonalID DateProvided RecordType TypeProvided OtherTypeProvided "
                "MovingOnOtherType SubTypeProvided FAAmount FAStartDate FAEndDate ReferralOutcome DateCreated "
                "DateUpdated UserID DateDeleted ExportID",
    "Assessment": "AssessmentID EnrollmentID PersonalID AssessmentDate AssessmentLocation AssessmentType "
                  "AssessmentLevel PrioritizationStatus DateCreated DateUpdated UserID DateDeleted ExportID",
    "Event": "EventID EnrollmentID PersonalID EventDate Event ProbSolDivRRResult ReferralCaseManageAfter "
             "LocationCrisisOrPHHousing ReferralResult ResultDate DateCreated DateUpdated UserID DateDeleted ExportID",
}
COLUMNS = {name: tuple(text.split()) for name, text in COLUMNS.items()}
_BOOKKEEPING = {"DateCreated": "2023-06-01 09:00:00", "DateUpdated": "2024-04-01 09:00:00", "UserID": "U1",
                "ExportID": "EXP1"}


class Export:
    """An export being written: rows per file, written out with `write` or `zip`."""

    def __init__(self, start: str = "2024-01-01", end: str = "2024-03-31"):
        self.rows: dict[str, list[dict]] = {name: [] for name in COLUMNS}
        self.add("Export", ExportID="EXP1", SourceType="1", SourceID="XX-500", SourceName="Test CoC",
                 ExportDate="2024-04-01 08:00:00", ExportStartDate=start, ExportEndDate=end,
                 SoftwareName="Test HMIS", CSVVersion="2024 v1.3", ExportPeriodType="3", ExportDirective="2",
                 HashStatus="1", ImplementationID="IMPL-1")
        self.add("User", UserID="U1", UserFirstName="Uma", UserLastName="User")

    def add(self, file: str, **values) -> dict:
        unknown = set(values) - set(COLUMNS[file])
        if unknown:
            raise KeyError(f"{file} has no column {sorted(unknown)}")
        row = {c: _BOOKKEEPING[c] for c in COLUMNS[file] if c in _BOOKKEEPING and file != "Export"}
        row.update({k: "" if v is None else str(v) for k, v in values.items()})
        self.rows[file].append(row)
        return row

    def write(self, folder: Path, *, files: tuple[str, ...] | None = None, bom: bool = True,
              crlf: bool = True) -> Path:
        """Write the files (all, or `files`) into `folder` as an HMIS writes them; returns the folder."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in files or COLUMNS:
            (folder / f"{name}.csv").write_bytes(self.csv(name, bom=bom, crlf=crlf))
        return folder

    def csv(self, name: str, *, bom: bool = True, crlf: bool = True) -> bytes:
        end = "\r\n" if crlf else "\n"
        lines = [",".join(_quoted(c) for c in COLUMNS[name])]
        lines += [",".join(_quoted(row.get(c, "")) for c in COLUMNS[name]) for row in self.rows[name]]
        return ((b"\xef\xbb\xbf" if bom else b"") + (end.join(lines) + end).encode("utf-8"))

    def zip(self, path: Path, *, folder: str = "HMIS_Export_2024/", extra: dict[str, bytes] | None = None) -> Path:
        """The export as one zip, its files in `folder` inside it (as many HMIS write it)."""
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in COLUMNS:
                zf.writestr(f"{folder}{name}.csv", self.csv(name))
            for name, content in (extra or {}).items():
                zf.writestr(name, content)
        return path


def _quoted(value: str) -> str:
    return '"' + str(value).replace('"', '""') + '"'


def small_export() -> Export:
    """A continuum small enough to check by hand (see tests/test_hmis.py for what each row is for)."""
    x = Export()
    org = lambda i, name, vsp=0, **kw: x.add("Organization", OrganizationID=i, OrganizationName=name,
                                             VictimServiceProvider=vsp, **kw)
    org("O1", "Harbor Access Point")
    org("O2", "Bayside Services")
    org("O3", "Safe Harbor", 1)  # a victim-service provider
    org("O4", "Hillside Housing")
    org("O9", "Closed Agency", DateDeleted="2024-02-01 10:00:00")  # deleted: its project goes too

    def project(i, o, name, ptype, common="", **kw):
        x.add("Project", ProjectID=i, OrganizationID=o, ProjectName=name, ProjectCommonName=common,
              OperatingStartDate="2020-01-01", ContinuumProject=1, ProjectType=ptype, TargetPopulation=4, **kw)

    project("P1", "O1", "Coordinated Entry Hub", 14, "CE Hub")
    project("P2", "O2", "Bayside Emergency Shelter", 0, "Bayside ES")
    project("P3", "O3", "Safe Harbor Shelter", 0)
    project("P4", "O4", "Hillside Rapid Rehousing", 13)
    project("P5", "O2", "Bayside Street Outreach", 4)
    project("P6", "O4", "Hillside PSH", 3, DateDeleted="2024-01-15 12:00:00")  # deleted itself
    project("P9", "O9", "Closed Project", 2)  # of a deleted organization

    coc = lambda i, p, city, code="XX-500", **kw: x.add("ProjectCoC", ProjectCoCID=i, ProjectID=p, CoCCode=code,
                                                         Geocode="123456", City=city, State="XX", **kw)
    coc("C1", "P1", "Riverton")
    coc("C2", "P2", "Riverton")
    coc("C5", "P5", "Port Ash")
    coc("C6", "P5", "Port Ash")  # O2: Riverton once, Port Ash twice -> Port Ash
    coc("C3", "P3", "", "XX-501")  # no city: the CoC code
    coc("C4", "P4", "Lakeside")
    coc("C9", "P9", "Elsewhere")

    x.add("Funder", FunderID="F1", ProjectID="P2", Funder=8, GrantID="G1", StartDate="2020-01-01")
    x.add("Funder", FunderID="F2", ProjectID="P2", Funder=46, OtherFunder="City Shelter Fund", GrantID="G2",
          StartDate="2023-01-01")  # the latest grant names the funder
    x.add("Funder", FunderID="F3", ProjectID="P4", Funder=3, GrantID="G3", StartDate="2022-07-01")

    inv = lambda i, p, beds, start, end="", **kw: x.add(
        "Inventory", InventoryID=i, ProjectID=p, CoCCode="XX-500", HouseholdType=1, UnitInventory=beds,
        BedInventory=beds, InventoryStartDate=start, InventoryEndDate=end, **kw)
    inv("I1", "P2", 20, "2023-01-01")
    inv("I2", "P2", 5, "2024-02-01", "2024-03-15")
    inv("I3", "P4", 10, "2024-01-01", "2024-02-29")
    inv("I4", "P2", 100, "2024-01-01", DateDeleted="2024-01-02 08:00:00")  # deleted
    inv("I9", "P9", 7, "2024-01-01")  # of a deleted project

    enr = lambda i, pid, p, entry, **kw: x.add("Enrollment", EnrollmentID=i, PersonalID=pid, ProjectID=p,
                                               EntryDate=entry, HouseholdID=f"H{i}", RelationshipToHoH=1,
                                               EnrollmentCoC="XX-500", DisablingCondition=99, **kw)
    enr("E1", "PID-001", "P1", "2024-01-02")
    enr("E2", "PID-002", "P1", "2024-01-03")
    enr("E3", "PID-003", "P1", "2024-01-05")
    enr("E4", "PID-001", "P2", "2024-01-10")  # PID-001 enters the shelter after the referral
    enr("E5", "PID-004", "P1", "2024-01-06")
    enr("E6", "PID-002", "P4", "2024-02-01")
    enr("E7", "PID-005", "P1", "2024-01-07", DateDeleted="2024-01-08 09:00:00")  # deleted
    enr("E8", "PID-006", "P6", "2024-01-04")  # in a deleted project
    enr("E9", "PID-007", "P5", "2024-01-01")
    enr("E10", "PID-008", "P2", "2024-01-01")

    ext = lambda i, e, pid, date, dest, **kw: x.add("Exit", ExitID=i, EnrollmentID=e, PersonalID=pid, ExitDate=date,
                                                    Destination=dest, **kw)
    ext("X1", "E4", "PID-001", "2024-02-15", 410)  # shelter -> permanent housing
    ext("X2", "E1", "PID-001", "2024-01-20", 99)  # from Coordinated Entry: not an outcome
    ext("X3", "E9", "PID-007", "2024-02-01", 101)  # Street Outreach -> shelter: housed_temporary
    ext("X4", "E6", "PID-002", "2024-03-01", 116)  # to the street
    ext("X5", "E8", "PID-006", "2024-02-01", 410)  # of a deleted project's enrollment
    ext("X6", "E10", "PID-008", "2024-01-25", 101)  # shelter -> shelter: returned_to_homelessness
    ext("X7", "E10", "PID-008", "2024-03-20", 215, DateDeleted="2024-03-21 08:00:00")  # deleted

    ev = lambda i, e, pid, date, code, where="", result="", on="", **kw: x.add(
        "Event", EventID=i, EnrollmentID=e, PersonalID=pid, EventDate=date, Event=code,
        LocationCrisisOrPHHousing=where, ReferralResult=result, ResultDate=on, **kw)
    ev("V1", "E1", "PID-001", "2024-01-05", 10, "  bayside   EMERGENCY shelter ", 1, "2024-01-08")  # accepted
    ev("V2", "E2", "PID-002", "2024-01-06", 13, "Hillside RRH", 1, "2024-01-20")  # by alias (test mapping)
    ev("V3", "E3", "PID-003", "2024-01-07", 10, "Safe Harbor Shelter", 2, "2024-01-09")  # client rejected
    ev("V4", "E5", "PID-004", "2024-01-08", 14, "Unknown Place")  # location not matched
    ev("V5", "E5", "PID-004", "2024-01-09", 2)  # problem solving: not a referral
    ev("V6", "E5", "PID-004", "2024-01-10", 11, "bayside es", 3, "2024-01-11")  # common name; provider rejected
    ev("V7", "E1", "PID-001", "2024-01-12", 13, "Hillside Rapid Rehousing")  # pending
    ev("V8", "E2", "PID-002", "2024-01-13", 10, "Bayside ES", 1, "2024-01-14",
       DateDeleted="2024-01-15 08:00:00")  # deleted
    ev("V9", "E7", "PID-005", "2024-01-08", 10, "Bayside ES")  # of a deleted enrollment
    ev("V10", "E2", "PID-002", "2024-01-04", 4)  # assessment: not a referral
    ev("V11", "E3", "PID-003", "2024-01-15", 15, "unknown  place")  # not matched, same place as V4

    x.add("Client", PersonalID="PID-001", FirstName="Zebedee", LastName="Quartermaine", SSN="123456789",
          DOB="1980-02-29", NameDataQuality=1, SSNDataQuality=1, DOBDataQuality=1, VeteranStatus=0)
    x.add("Client", PersonalID="PID-002", FirstName="Philomena", LastName="Ashcombe", SSN="987654321",
          DOB="1975-07-04", NameDataQuality=1, SSNDataQuality=1, DOBDataQuality=1, VeteranStatus=0)
    x.add("Services", ServicesID="S1", EnrollmentID="E4", PersonalID="PID-001", DateProvided="2024-01-11",
          RecordType=200, TypeProvided=1)
    x.add("Assessment", AssessmentID="A1", EnrollmentID="E1", PersonalID="PID-001", AssessmentDate="2024-01-02",
          AssessmentLocation="Harbor front desk", AssessmentType=1, AssessmentLevel=1, PrioritizationStatus=1)
    return x


MAPPING = """
[locations]
"Hillside RRH" = "P4"

[agencies.sectors]
"O4" = "government"
"""


def padded_export(n: int = 40) -> Export:
    """The small continuum with `n` more enrollments, exits, events and inventory rows that change no figure
    (enrollments in Coordinated Entry, whose exits are no outcomes; problem-solving events, which are no
    referrals; inventory that ended before the export period), so that one faulty row is a small share of a
    file, as in a real export."""
    x = small_export()
    for i in range(n):
        x.add("Enrollment", EnrollmentID=f"F{i}", PersonalID=f"PID-F{i}", ProjectID="P1", EntryDate="2024-01-02",
              HouseholdID=f"HF{i}", RelationshipToHoH=1, EnrollmentCoC="XX-500")
        x.add("Exit", ExitID=f"FX{i}", EnrollmentID=f"F{i}", PersonalID=f"PID-F{i}", ExitDate="2024-01-03",
              Destination=99)
        x.add("Event", EventID=f"FV{i}", EnrollmentID=f"F{i}", PersonalID=f"PID-F{i}", EventDate="2024-01-02",
              Event=2)
        x.add("Inventory", InventoryID=f"FI{i}", ProjectID="P3", CoCCode="XX-500", HouseholdType=1,
              BedInventory=4, InventoryStartDate="2020-01-01", InventoryEndDate="2020-12-31")
    return x


def row_of(x: Export, file: str, key: str, value: str) -> dict:
    """The row of `file` whose `key` is `value` (to break it in a test)."""
    return next(r for r in x.rows[file] if r[key] == value)


def file_row(x: Export, file: str, key: str, value: str) -> int:
    """The row number of that row in its file, the header being row 1."""
    return next(i for i, r in enumerate(x.rows[file]) if r[key] == value) + 2


def lossy_export(good: int = 14, bad: int = 2) -> Export:
    """An access point (agency A) referring to a shelter (agency B, "Beds Shelter"): `good` referral events, then
    `bad` that name an enrollment not in the export, so that `bad` of the `good + bad` rows of Event.csv are left
    out (2 of 16: 12.5 %, over the safeguard's 5 %)."""
    x = Export()
    x.add("Organization", OrganizationID="A", OrganizationName="Access", VictimServiceProvider=0)
    x.add("Organization", OrganizationID="B", OrganizationName="Beds", VictimServiceProvider=0)
    x.add("Project", ProjectID="PA", OrganizationID="A", ProjectName="Access Point", ProjectType=14)
    x.add("Project", ProjectID="PB", OrganizationID="B", ProjectName="Beds Shelter", ProjectType=1)
    x.add("Enrollment", EnrollmentID="E", PersonalID="P", ProjectID="PA", EntryDate="2024-01-01")
    for i in range(good + bad):
        x.add("Event", EventID=f"G{i}", EnrollmentID="E" if i < good else "E404", PersonalID="PID-SECRET",
              EventDate="2024-01-02", Event=10, LocationCrisisOrPHHousing="Beds Shelter")
    return x
