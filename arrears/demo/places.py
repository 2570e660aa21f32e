"""The demo's world: its four buildings, the places its people come from, their names, rents and
habits. Data only, with the law that sets a figure cited beside it.

Every phone number is a 555-01xx number set aside for fiction and every email address is at a
domain reserved for examples, so nothing written from the demo reaches anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

HISTORY_MONTHS = 18
RESIDENTIAL, COMMERCIAL = "residential_lease", "commercial_lease"
# The order of an account's entries within a day; the spec replays same-day entries in file order.
CHARGE_STEP, RETURN_STEP, CREDIT_STEP, PAYMENT_STEP = 0, 1, 2, 3

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = words(
    """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald
Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Nicholas Angela Eric Shirley Jonathan
Anna Justin Brenda Aaron Samantha Tyrone Keisha Jamal Aaliyah DeShawn Imani Malik Ebony Andre
Tanisha Wei Mei Hiroshi Yuki Raj Priya Arjun Ananya Minh Linh Seo-yeon Ji-ho Olga Dmitri Fatima
Omar Aisha Yusuf Kwame Abena Chidi Ngozi Siobhan Liam Declan Aoife Giuseppe Francesca Marek
Katarzyna Noah Olivia Ethan Sophia Mason Ava Zoe Caleb
"""
)
LAST_NAMES = words(
    """
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson
Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green
Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins
Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Bailey Reed Kelly Howard
Washington Jefferson Brooks Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry
Powell Long Patterson Hughes Butler Chen Wang Zhang Liu Nguyen Tran Kim Park Patel Shah Singh
Gupta Tanaka Sato Okafor Mensah Adeyemi Kowalski Nowak Ivanov Petrova O'Brien O'Connor Sullivan
Rossi Esposito Cohen Goldberg Levy Haddad Khan Ali Hassan Schmidt Müller Dubois
"""
)
SPANISH_FIRST_NAMES = words(
    """
José María Juan Ana Luis Carmen Carlos Rosa Jorge Lucía Miguel Isabel Pedro Elena Rafael Marisol
Francisco Yesenia Alejandro Guadalupe Fernando Daniela Ramón Leticia Héctor Beatriz Manuel
Altagracia Julio Yolanda Ángel Esperanza Raúl Milagros Víctor Socorro Andrés Maribel Ernesto
Dolores Santiago Valentina Mateo Camila Diego Sofía Joel Yajaira Wilfredo Xiomara
"""
)
SPANISH_LAST_NAMES = words(
    """
García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Rivera
Gómez Díaz Reyes Cruz Morales Ortiz Gutiérrez Chávez Ramos Ruiz Jiménez Mendoza Álvarez Castillo
Romero Vargas Herrera Medina Aguilar Vásquez Castro Guzmán Peña Rosario Almonte Santana Féliz
Polanco Núñez Batista Acevedo Espinal Tejada Figueroa Colón Marte Valdez
"""
)
STREETS = (
    "Maple Avenue",
    "Oak Street",
    "Washington Avenue",
    "Park Place",
    "Elm Street",
    "Lincoln Road",
    "Church Street",
    "Highland Avenue",
    "Cedar Lane",
    "Grand Street",
    "Union Avenue",
    "Prospect Street",
    "Main Street",
    "Jefferson Avenue",
    "Ridge Road",
    "Chestnut Street",
)
SPANISH_STREETS = (
    "Calle Sol",
    "Calle Luna",
    "Avenida Ponce de León",
    "Calle Duarte",
    "Avenida Juárez",
    "Calle Mercedes",
    "Avenida Independencia",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # reserved: no mail reaches anyone


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    state: str
    postal_code: str
    country: str
    timezone: str
    dials: tuple[str, ...]  # E.164 prefixes of the phone numbers people there have

    @property
    def spanish_streets(self) -> bool:
        return self.country in ("MX", "DO") or self.state == "PR"


def place_of(
    city: str, state: str, postal: str, zone: str, *dials: str, country: str = "US"
) -> Place:
    return Place(city, state, postal, country, zone, dials)


NEW_YORK, CHICAGO, DENVER, PACIFIC = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
NYC_DIALS = ("+1212", "+1646", "+1917", "+1347", "+1718", "+1929")
UPSTATE_DIALS = ("+1518", "+1518", "+1518", "+1838", "+1315", "+1585")
BAY_DIALS = ("+1510", "+1510", "+1341", "+1415", "+1925")
LOCAL_PLACES = {
    "nyc": (
        place_of("Bronx", "NY", "10463", NEW_YORK, "+1718", "+1347"),
        place_of("Brooklyn", "NY", "11221", NEW_YORK, "+1347", "+1929"),
        place_of("Jackson Heights", "NY", "11372", NEW_YORK, "+1917", "+1718"),
        place_of("New York", "NY", "10034", NEW_YORK, "+1646", "+1212"),
        place_of("Staten Island", "NY", "10304", NEW_YORK, "+1718"),
    ),
    "upstate": (
        place_of("Troy", "NY", "12180", NEW_YORK, "+1518"),
        place_of("Schenectady", "NY", "12305", NEW_YORK, "+1518", "+1838"),
        place_of("Saratoga Springs", "NY", "12866", NEW_YORK, "+1518"),
        place_of("Delmar", "NY", "12054", NEW_YORK, "+1518"),
    ),
    "ca": (
        place_of("Berkeley", "CA", "94703", PACIFIC, "+1510", "+1341"),
        place_of("San Leandro", "CA", "94577", PACIFIC, "+1510"),
        place_of("Richmond", "CA", "94804", PACIFIC, "+1510"),
        place_of("San Francisco", "CA", "94110", PACIFIC, "+1415", "+1628"),
    ),
}
ELSEWHERE = (
    place_of("Jersey City", "NJ", "07306", NEW_YORK, "+1201", "+1551"),
    place_of("Paterson", "NJ", "07501", NEW_YORK, "+1973", "+1862"),
    place_of("Yonkers", "NY", "10701", NEW_YORK, "+1914"),
    place_of("Hempstead", "NY", "11550", NEW_YORK, "+1516"),
    place_of("Stamford", "CT", "06902", NEW_YORK, "+1203"),
    place_of("Philadelphia", "PA", "19146", NEW_YORK, "+1215", "+1267"),
    place_of("Boston", "MA", "02130", NEW_YORK, "+1617", "+1857"),
    place_of("Atlanta", "GA", "30306", NEW_YORK, "+1404", "+1678"),
    place_of("Buffalo", "NY", "14222", NEW_YORK, "+1716"),
    place_of("Rochester", "NY", "14607", NEW_YORK, "+1585"),
    place_of("Syracuse", "NY", "13210", NEW_YORK, "+1315"),
    place_of("Chicago", "IL", "60614", CHICAGO, "+1312", "+1773"),
    place_of("Houston", "TX", "77006", CHICAGO, "+1713", "+1832"),
    place_of("Denver", "CO", "80205", DENVER, "+1303", "+1720"),
    place_of("Phoenix", "AZ", "85016", "America/Phoenix", "+1602", "+1480"),
    place_of("Sacramento", "CA", "95816", PACIFIC, "+1916"),
    place_of("San Jose", "CA", "95126", PACIFIC, "+1408", "+1669"),
    place_of("Fresno", "CA", "93704", PACIFIC, "+1559"),
    place_of("Seattle", "WA", "98103", PACIFIC, "+1206"),
    place_of("Portland", "OR", "97214", PACIFIC, "+1503", "+1971"),
    place_of("Honolulu", "HI", "96816", "Pacific/Honolulu", "+1808"),
    place_of("Anchorage", "AK", "99501", "America/Anchorage", "+1907"),
    place_of("Toronto", "ON", "M5V 2T6", "America/Toronto", "+1416", "+1647", country="CA"),
)
SPANISH_PLACES = (
    place_of("San Juan", "PR", "00907", "America/Puerto_Rico", "+1787", "+1939"),
    place_of("Bayamón", "PR", "00961", "America/Puerto_Rico", "+1787"),
    place_of("Santo Domingo", "", "10101", "America/Santo_Domingo", "+1809", country="DO"),
    place_of("Guadalajara", "JAL", "44160", "America/Mexico_City", "+5233", country="MX"),
    place_of("Lawrence", "MA", "01841", NEW_YORK, "+1978"),
    place_of("Miami", "FL", "33135", NEW_YORK, "+1305", "+1786"),
    place_of("El Paso", "TX", "79902", DENVER, "+1915"),
    place_of("Los Angeles", "CA", "90026", PACIFIC, "+1213", "+1323"),
)


@dataclass(frozen=True, slots=True)
class Building:
    property_id: str
    name: str
    address: str
    place: Place
    market: str  # nyc, upstate or ca: picks rents and the places people come from
    floors: range
    lines: str  # the unit letters of a floor: unit "4B" is line B on floor 4
    shops: tuple[str, ...]  # commercial units
    spanish: float  # share of tenants whose language is es
    assistance: str  # the local emergency rental assistance payer
    housing_authority: str  # the Section 8 payer
    shop_tenants: tuple[str, ...] = ()


BUILDINGS = (
    Building(
        "MAR",
        "The Marlowe",
        "418 West 147th Street",
        place_of("New York", "NY", "10031", NEW_YORK, *NYC_DIALS),
        "nyc",
        range(1, 15),
        "ABCDEFGHJKLM",
        (),
        0.22,
        "HRA ONE-SHOT",
        "NYCHA",
    ),
    Building(
        "FUL",
        "Fulton Commons",
        "1187 Fulton Street",
        place_of("Brooklyn", "NY", "11216", NEW_YORK, *NYC_DIALS),
        "nyc",
        range(2, 5),
        "ABCDEF",
        ("S1", "S2", "S3", "S4", "S5"),
        0.12,
        "HRA ONE-SHOT",
        "NYCHA",
        (
            "Fulton Wash & Fold LLC",
            "Bedford Corner Pharmacy Inc.",
            "Kofi's Caribbean Kitchen LLC",
            "Brooklyn Bike Works LLC",
            "Nostrand Family Dental PLLC",
            "Green Leaf Deli Corp.",
            "Stuyvesant Hair Studio LLC",
        ),
    ),
    Building(
        "PHC",
        "Pine Hills Commons",
        "1010 Madison Avenue",
        place_of("Albany", "NY", "12208", NEW_YORK, *UPSTATE_DIALS),
        "upstate",
        range(1, 7),
        "ABCDEFGHJKLMNPQRST",
        (),
        0.06,
        "ALBANY CO DSS",
        "AHA",
    ),
    Building(
        "LSG",
        "Lakeshore Gardens",
        "3321 Lakeshore Avenue",
        place_of("Oakland", "CA", "94610", PACIFIC, *BAY_DIALS),
        "ca",
        range(2, 10),
        "ABCDEFGHJKLMNPQR",
        ("R1", "R2", "R3"),
        0.15,
        "KEEP OAKLAND HOUSED",
        "OHA",
        (
            "Lakeshore Coffee Roasters LLC",
            "Grand Lake Yoga Collective LLC",
            "Bay Cleaners Inc.",
            "Trestle Glen Books LLC",
        ),
    ),
)
BEDROOMS = (0, 1, 2, 1, 3, 1, 2, 0, 1, 2, 1, 3)  # by line letter, repeating
RENTS = {  # monthly rent ranges by bedrooms, whole dollars
    "nyc": ((2200, 2600), (2600, 3250), (3200, 3950), (3800, 4500)),
    "upstate": ((925, 1150), (1125, 1375), (1350, 1625), (1575, 1800)),
    "ca": ((2000, 2400), (2350, 2900), (2850, 3400), (3250, 3800)),
}
SHOP_RENTS = {"nyc": (4200, 8500), "ca": (3500, 6500)}
PROFILES = {
    # prompt: pays by the 5th; early: pays next month on the 24th-28th; late: pays after the
    # 6th; partial: pays part and falls behind; lapsed: stops paying a few months before today;
    # hardship: stops, then an assistance agency pays the arrears; nsf: payments often return;
    # prepaid: keeps a credit of one to three months.
    "staying": (
        ("prompt", 40),
        ("early", 8),
        ("late", 15),
        ("partial", 8),
        ("lapsed", 7),
        ("hardship", 5),
        ("nsf", 4),
        ("prepaid", 7),
    ),
    "leaving": (
        ("prompt", 35),
        ("early", 5),
        ("late", 15),
        ("partial", 22),
        ("lapsed", 15),
        ("nsf", 8),
    ),
    "shop": (("prompt", 55), ("late", 25), ("partial", 10), ("lapsed", 10)),
}
REPAIRS = (
    ("Lockout service", "75.00"),
    ("Replacement key fob", "50.00"),
    ("Lost mailbox key", "35.00"),
    ("Window screen replacement", "90.00"),
    ("Clogged drain, tenant-caused", "145.00"),
    ("Smoke detector replaced, tampered", "65.00"),
    ("Door repair, tenant damage", "285.00"),
)
UTILITIES = {
    "nyc": ("Electric submeter", "Air conditioner sleeve charge"),
    "upstate": ("Water and sewer", "Gas submeter"),
    "ca": ("Water, sewer and trash (RUBS)", "Water submeter"),
}
# NY GOL §7-108(1-a)(e): the deposit and an itemized statement within 14 days of move-out;
# CA Civ. Code §1950.5(g)(1): within 21 days.
DEPOSIT_SETTLEMENT_DAYS = {"NY": 14, "CA": 21}
# Move-outs of the book's last 60 days (the days the demo runs the collection cycle over) keep
# their deposit: Arrears disposes of them in the demo (arrears.demo.deposits), not the history.
ARREARS_SETTLES_WITHIN_DAYS = 60
