"""A page's content and claim as the company service stored them before the typed to/from functions
(written by the reflective JSON codec they replaced), and the values they hold. Such rows are in
databases today: they must keep loading, and what the service writes now must be byte for byte the same."""

from __future__ import annotations

from datetime import date

from company_service.domain.content import (
    CompanyContent,
    CompanySize,
    Contact,
    DistributionChannel,
    Financials,
    FundingRound,
    LicensingModel,
    Money,
    Pitch,
    RevenueRange,
)
from company_service.domain.model import Claim

OLD_PROFILE = (
    '{"display_name":"Acm\\u00e9 Analytics","legal_name":"Acme SAS","tagline":"t","description":"d\\"q",'
    '"website_url":"https://acme.io","hq_country_code":"FR","founding_year":2015,"company_size":2,'
    '"industries":["fintech","health"],"solution_categories":["analytics"],"target_regions":["europe"],'
    '"target_country_codes":["FR","DE"],"licensing_models":[2,4],"distribution_channels":[1],'
    '"technology_partners":["Azure"],"wanted_technology_partners":["AWS"],"contact":{"email":"hq@acme.io",'
    '"phone_number":"+33612345678","postal_address":"1 rue","contact_name":"Ada",'
    '"linkedin_url":"https://linkedin.com/in/ada"},"financials":{"revenue_range":3,"looking_for_funding":true,'
    '"funding_target":{"currency_code":"EUR","amount_minor":50000000},"funding_rounds":[{"stage":"seed",'
    '"amount":{"currency_code":"EUR","amount_minor":10000000},"close_date":"2020-03-01"},{"stage":"pre_seed",'
    '"amount":{"currency_code":"","amount_minor":0},"close_date":null}],"last_funding_date":"2021-01-02",'
    '"total_raised":{"currency_code":"USD","amount_minor":7}},"pitch":{"pain_point":"pain","differentiator":"diff",'
    '"team":"team","published":true}}'
)
OLD_CLAIM = (
    '{"subject": "kc-a", "user": "users/1", "display_name": "Ada", "email": "a@acme.io", "message": "hi", '
    '"evidence_url": "https://x.io"}'
)
RICH = CompanyContent(
    display_name="Acmé Analytics",
    legal_name="Acme SAS",
    tagline="t",
    description='d"q',
    website_url="https://acme.io",
    hq_country_code="FR",
    founding_year=2015,
    company_size=CompanySize.S_11_50,
    industries=("fintech", "health"),
    solution_categories=("analytics",),
    target_regions=("europe",),
    target_country_codes=("FR", "DE"),
    licensing_models=(LicensingModel.SAAS, LicensingModel.OEM),
    distribution_channels=(DistributionChannel.DIRECT,),
    technology_partners=("Azure",),
    wanted_technology_partners=("AWS",),
    contact=Contact("hq@acme.io", "+33612345678", "1 rue", "Ada", "https://linkedin.com/in/ada"),
    financials=Financials(
        RevenueRange.R_1M_5M,
        True,
        Money("EUR", 50_000_000),
        (FundingRound("seed", Money("EUR", 10_000_000), date(2020, 3, 1)), FundingRound("pre_seed")),
        date(2021, 1, 2),
        Money("USD", 7),
    ),
    pitch=Pitch("pain", "diff", "team", True),
)
OLD_CLAIM_VALUE = Claim("kc-a", "users/1", "Ada", "a@acme.io", "hi", "https://x.io")
