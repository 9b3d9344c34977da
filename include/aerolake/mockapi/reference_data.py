"""Embedded, hand-curated reference tables for the synthetic aviation world.

Everything here is real-world data (IATA/ICAO codes, airline and aircraft names, the Lufthansa
group network, metropolitan city codes) so that records served by the mock look like the real
thing.  Coordinates and time zones of airports come from ``airportsdata`` at runtime; only the
railway stations below, which ``airportsdata`` does not know, carry their own.
"""

from __future__ import annotations

# Airports that exchange "hub-pair" flights with each other: a flight between two of them is one
# record that shows up both in the origin's departures and in the destination's arrivals.
# Value: traffic weight (drives how many flights a pair exchanges and how often an airport is
# picked as a destination).
CORE_AIRPORTS: dict[str, float] = {
    # Lufthansa group hubs
    "FRA": 1.0, "MUC": 0.9, "ZRH": 0.6, "VIE": 0.55, "BRU": 0.45,
    # Germany
    "DUS": 0.5, "HAM": 0.45, "BER": 0.5, "CGN": 0.35, "STR": 0.35, "HAJ": 0.25,
    # Europe
    "LHR": 0.7, "CDG": 0.7, "AMS": 0.6, "MAD": 0.5, "BCN": 0.5, "FCO": 0.45, "MXP": 0.35,
    "CPH": 0.4, "ARN": 0.35, "OSL": 0.35, "HEL": 0.3, "WAW": 0.3, "IST": 0.5, "LIS": 0.35,
    "ATH": 0.3, "DUB": 0.3, "PRG": 0.25, "BUD": 0.25, "GVA": 0.35, "MAN": 0.3,
    # Intercontinental
    "JFK": 0.5, "EWR": 0.35, "ORD": 0.4, "IAD": 0.3, "BOS": 0.3, "SFO": 0.35, "LAX": 0.4,
    "YYZ": 0.35, "DXB": 0.45, "DOH": 0.3, "SIN": 0.35, "HND": 0.35, "NRT": 0.3, "PEK": 0.3,
    "PVG": 0.3, "HKG": 0.3, "ICN": 0.3, "DEL": 0.3, "BOM": 0.3, "GRU": 0.25, "JNB": 0.2,
}  # fmt: skip

# Pair shares that differ from the gravity default (fraction of a hub's daily flights).
PAIR_SHARE_OVERRIDES: dict[frozenset[str], float] = {
    frozenset({"FRA", "MUC"}): 0.03,
    frozenset({"FRA", "BER"}): 0.025,
    frozenset({"FRA", "HAM"}): 0.025,
    frozenset({"MUC", "BER"}): 0.025,
    frozenset({"MUC", "HAM"}): 0.025,
    frozenset({"FRA", "ZRH"}): 0.015,
    frozenset({"FRA", "VIE"}): 0.015,
    frozenset({"MUC", "ZRH"}): 0.012,
    frozenset({"MUC", "VIE"}): 0.012,
}

# Further real Lufthansa-group destinations (in the reference listing, flown to by own flights).
# fmt: off
NETWORK_AIRPORTS: tuple[str, ...] = (
    "AAL", "AES", "AGP", "ALC", "BGO", "BHX", "BIO", "BLL", "BLQ", "BOD", "BRE", "BRI", "BRS", "BSL",
    "CAG", "CTA", "DBV", "DRS", "EDI", "FAO", "FLR", "FMM", "FNC", "FDH", "GOT", "GRZ", "HER", "IBZ",
    "INN", "KRK", "KTW", "LCA", "LEJ", "LIN", "LJU", "LUX", "LYS", "MLA", "MRS", "NAP", "NCE", "NUE",
    "OPO", "OTP", "PAD", "PMI", "PMO", "POZ", "RIX", "RHO", "SCN", "SJJ", "SKG", "SOF", "SPU", "SVQ",
    "SZG", "TFS", "TLL", "TLS", "TRN", "VCE", "VLC", "VNO", "WRO", "ZAG", "KLU", "LNZ", "BEG", "TIA",
    "SKP", "TGD", "PRN", "EVN", "TBS", "GYD", "ESB", "ADB", "AYT", "SAW", "TLV", "LPA", "ACE", "FUE",
    "KEF", "TRD", "SVG", "TOS", "ATL", "AUS", "CLT", "DEN", "DFW", "DTW", "IAH", "LAS", "MCO", "MIA",
    "MSP", "PHL", "SAN", "SEA", "YUL", "YVR", "YYC", "MEX", "CUN", "BOG", "PTY", "GIG", "EZE", "SCL",
    "LIM", "CAI", "HRG", "SSH", "CPT", "NBO", "ADD", "LOS", "ABV", "ACC", "CMN", "RAK", "TUN", "ALG",
    "AMM", "BEY", "AUH", "BAH", "KWI", "MCT", "RUH", "JED", "BLR", "MAA", "HYD", "BKK", "KUL", "CAN",
    "KIX", "NGO", "TPE", "MNL", "SGN", "HAN", "CGK", "DPS", "CMB", "MLE",
)
# fmt: on

# Real Lufthansa Express Rail stations (not in airportsdata): code -> (city code, en, de, lat, lon, tz)
RAIL_STATIONS: dict[str, tuple[str, str, str, float, float, str]] = {
    "QKL": ("CGN", "Cologne Hbf Railway Station", "Köln Hauptbahnhof", 50.9430, 6.9589, "Europe/Berlin"),
    "QDU": ("DUS", "Dusseldorf Hbf Railway Station", "Düsseldorf Hauptbahnhof", 51.2200, 6.7943,
            "Europe/Berlin"),
    "ZWS": ("STR", "Stuttgart Hbf Railway Station", "Stuttgart Hauptbahnhof", 48.7840, 9.1817,
            "Europe/Berlin"),
    "ZMB": ("HAM", "Hamburg Hbf Railway Station", "Hamburg Hauptbahnhof", 53.5530, 10.0069,
            "Europe/Berlin"),
    "QPP": ("BER", "Berlin Hbf Railway Station", "Berlin Hauptbahnhof", 52.5251, 13.3694,
            "Europe/Berlin"),
}  # fmt: skip

# Metropolitan city codes: city code -> (airports, en name, de name, lat, lon)
METRO_CITIES: dict[str, tuple[tuple[str, ...], str, str, float, float]] = {
    "LON": (("LHR", "LGW", "LCY", "STN", "LTN", "SEN"), "London", "London", 51.5072, -0.1276),
    "PAR": (("CDG", "ORY", "BVA"), "Paris", "Paris", 48.8566, 2.3522),
    "NYC": (("JFK", "EWR", "LGA"), "New York", "New York", 40.7128, -74.0060),
    "MIL": (("MXP", "LIN", "BGY"), "Milan", "Mailand", 45.4642, 9.1900),
    "TYO": (("HND", "NRT"), "Tokyo", "Tokio", 35.6762, 139.6503),
    "ROM": (("FCO", "CIA"), "Rome", "Rom", 41.9028, 12.4964),
    "STO": (("ARN", "BMA", "NYO"), "Stockholm", "Stockholm", 59.3293, 18.0686),
    "MOW": (("SVO", "DME", "VKO"), "Moscow", "Moskau", 55.7558, 37.6173),
    "WAS": (("IAD", "DCA", "BWI"), "Washington", "Washington", 38.9072, -77.0369),
    "CHI": (("ORD", "MDW"), "Chicago", "Chicago", 41.8781, -87.6298),
    "BUE": (("EZE", "AEP"), "Buenos Aires", "Buenos Aires", -34.6037, -58.3816),
    "SAO": (("GRU", "CGH", "VCP"), "Sao Paulo", "São Paulo", -23.5505, -46.6333),
    "RIO": (("GIG", "SDU"), "Rio de Janeiro", "Rio de Janeiro", -22.9068, -43.1729),
    "OSA": (("KIX", "ITM"), "Osaka", "Osaka", 34.6937, 135.5023),
    "SEL": (("ICN", "GMP"), "Seoul", "Seoul", 37.5665, 126.9780),
    "BJS": (("PEK", "PKX"), "Beijing", "Peking", 39.9042, 116.4074),
    "YTO": (("YYZ", "YTZ"), "Toronto", "Toronto", 43.6532, -79.3832),
    "BUH": (("OTP", "BBU"), "Bucharest", "Bukarest", 44.4268, 26.1025),
    "BER": (("BER", "QPP"), "Berlin", "Berlin", 52.5200, 13.4050),
    "CGN": (("CGN", "QKL"), "Cologne/Bonn", "Köln/Bonn", 50.9375, 6.9603),
    "DUS": (("DUS", "QDU"), "Dusseldorf", "Düsseldorf", 51.2277, 6.7735),
    "STR": (("STR", "ZWS"), "Stuttgart", "Stuttgart", 48.7758, 9.1829),
    "HAM": (("HAM", "ZMB"), "Hamburg", "Hamburg", 53.5511, 9.9937),
}

# City names where airportsdata's "city" field is not what an airline would print.
CITY_NAMES: dict[str, tuple[str, str]] = {
    "FRA": ("Frankfurt", "Frankfurt"), "MUC": ("Munich", "München"), "VIE": ("Vienna", "Wien"),
    "ZRH": ("Zurich", "Zürich"), "BRU": ("Brussels", "Brüssel"), "GVA": ("Geneva", "Genf"),
    "NUE": ("Nuremberg", "Nürnberg"), "HAJ": ("Hanover", "Hannover"), "LEJ": ("Leipzig/Halle", "Leipzig/Halle"),
    "CPH": ("Copenhagen", "Kopenhagen"), "WAW": ("Warsaw", "Warschau"), "PRG": ("Prague", "Prag"),
    "ATH": ("Athens", "Athen"), "LIS": ("Lisbon", "Lissabon"), "IST": ("Istanbul", "Istanbul"),
    "SAW": ("Istanbul", "Istanbul"), "VCE": ("Venice", "Venedig"), "NAP": ("Naples", "Neapel"),
    "FLR": ("Florence", "Florenz"), "KRK": ("Krakow", "Krakau"), "BEG": ("Belgrade", "Belgrad"),
    "SOF": ("Sofia", "Sofia"), "CAI": ("Cairo", "Kairo"), "YYZ": ("Toronto", "Toronto"),
    "LED": ("St. Petersburg", "Sankt Petersburg"), "KEF": ("Reykjavik", "Reykjavík"),
    "TLV": ("Tel Aviv", "Tel Aviv"), "DEL": ("Delhi", "Delhi"), "GRU": ("Sao Paulo", "São Paulo"),
    "BSL": ("Basel/Mulhouse", "Basel/Mülhausen"), "TRN": ("Turin", "Turin"), "GOT": ("Gothenburg", "Göteborg"),
    "MLA": ("Malta", "Malta"), "BCN": ("Barcelona", "Barcelona"), "SVQ": ("Seville", "Sevilla"),
    "LUX": ("Luxembourg", "Luxemburg"), "BLQ": ("Bologna", "Bologna"), "EVN": ("Yerevan", "Eriwan"),
    "TBS": ("Tbilisi", "Tiflis"), "KIV": ("Chisinau", "Chisinau"), "SKP": ("Skopje", "Skopje"),
    "DXB": ("Dubai", "Dubai"), "HKG": ("Hong Kong", "Hongkong"), "SIN": ("Singapore", "Singapur"),
    "MEX": ("Mexico City", "Mexiko-Stadt"), "CPT": ("Cape Town", "Kapstadt"), "ALG": ("Algiers", "Algier"),
}  # fmt: skip

# (IATA, ICAO, English name, German name)
AIRLINES: tuple[tuple[str, str, str, str], ...] = (
    ("LH", "DLH", "Lufthansa", "Lufthansa"),
    ("LX", "SWR", "SWISS", "SWISS"),
    ("OS", "AUA", "Austrian Airlines", "Austrian Airlines"),
    ("EW", "EWG", "Eurowings", "Eurowings"),
    ("SN", "BEL", "Brussels Airlines", "Brussels Airlines"),
    ("4Y", "OCN", "Discover Airlines", "Discover Airlines"),
    ("EN", "DLA", "Air Dolomiti", "Air Dolomiti"),
    ("CL", "CLH", "Lufthansa CityLine", "Lufthansa CityLine"),
    ("WK", "EDW", "Edelweiss Air", "Edelweiss Air"),
    ("2L", "OAW", "Helvetic Airways", "Helvetic Airways"),
    ("UA", "UAL", "United Airlines", "United Airlines"),
    ("AC", "ACA", "Air Canada", "Air Canada"),
    ("NH", "ANA", "All Nippon Airways", "All Nippon Airways"),
    ("SQ", "SIA", "Singapore Airlines", "Singapore Airlines"),
    ("TK", "THY", "Turkish Airlines", "Turkish Airlines"),
    ("AF", "AFR", "Air France", "Air France"),
    ("KL", "KLM", "KLM Royal Dutch Airlines", "KLM Königliche Niederländische Fluggesellschaft"),
    ("BA", "BAW", "British Airways", "British Airways"),
    ("IB", "IBE", "Iberia", "Iberia"),
    ("AY", "FIN", "Finnair", "Finnair"),
    ("SK", "SAS", "SAS Scandinavian Airlines", "SAS Scandinavian Airlines"),
    ("LO", "LOT", "LOT Polish Airlines", "LOT Polnische Fluggesellschaft"),
    ("TP", "TAP", "TAP Air Portugal", "TAP Air Portugal"),
    ("A3", "AEE", "Aegean Airlines", "Aegean Airlines"),
    ("OU", "CTN", "Croatia Airlines", "Croatia Airlines"),
    ("JU", "ASL", "Air Serbia", "Air Serbia"),
    ("CA", "CCA", "Air China", "Air China"),
    ("OZ", "AAR", "Asiana Airlines", "Asiana Airlines"),
    ("ET", "ETH", "Ethiopian Airlines", "Ethiopian Airlines"),
    ("MS", "MSR", "EgyptAir", "EgyptAir"),
    ("TG", "THA", "Thai Airways International", "Thai Airways International"),
    ("NZ", "ANZ", "Air New Zealand", "Air New Zealand"),
    ("AI", "AIC", "Air India", "Air India"),
    ("SA", "SAA", "South African Airways", "South African Airways"),
    ("LA", "LAN", "LATAM Airlines", "LATAM Airlines"),
    ("AV", "AVA", "Avianca", "Avianca"),
    ("CM", "CMP", "Copa Airlines", "Copa Airlines"),
    ("EK", "UAE", "Emirates", "Emirates"),
    ("QR", "QTR", "Qatar Airways", "Qatar Airways"),
    ("DL", "DAL", "Delta Air Lines", "Delta Air Lines"),
    ("AA", "AAL", "American Airlines", "American Airlines"),
    ("FR", "RYR", "Ryanair", "Ryanair"),
    ("U2", "EZY", "easyJet", "easyJet"),
    ("VY", "VLG", "Vueling Airlines", "Vueling Airlines"),
)

# (IATA equipment code, English name, German name, AirlineEquipCode, size class)
# size class: R regional, N narrow body, W wide body.  AirlineEquipCode "*" = not in the LH fleet.
AIRCRAFT: tuple[tuple[str, str, str, str, str], ...] = (
    ("100", "Fokker 100", "Fokker 100", "*", "R"),
    ("221", "Airbus A220-100", "Airbus A220-100", "221", "R"),
    ("223", "Airbus A220-300", "Airbus A220-300", "223", "R"),
    ("290", "Embraer 190 E2", "Embraer 190 E2", "*", "R"),
    ("295", "Embraer 195 E2", "Embraer 195 E2", "295", "R"),
    ("E70", "Embraer 170", "Embraer 170", "*", "R"),
    ("E75", "Embraer 175", "Embraer 175", "E75", "R"),
    ("E90", "Embraer 190", "Embraer 190", "E90", "R"),
    ("E95", "Embraer 195", "Embraer 195", "E95", "R"),
    ("CR7", "Canadair Regional Jet 700", "Canadair Regional Jet 700", "*", "R"),
    ("CR9", "Canadair Regional Jet 900", "Canadair Regional Jet 900", "CR9", "R"),
    ("CRK", "Canadair Regional Jet 1000", "Canadair Regional Jet 1000", "*", "R"),
    ("DH4", "De Havilland Dash 8-400", "De Havilland Dash 8-400", "DH4", "R"),
    ("AT5", "ATR 42-500", "ATR 42-500", "*", "R"),
    ("AT7", "ATR 72", "ATR 72", "AT7", "R"),
    ("318", "Airbus A318", "Airbus A318", "*", "N"),
    ("319", "Airbus A319", "Airbus A319", "319", "N"),
    ("320", "Airbus A320-100/200", "Airbus A320-100/200", "320", "N"),
    ("321", "Airbus A321-100/200", "Airbus A321-100/200", "321", "N"),
    ("32N", "Airbus A320neo", "Airbus A320neo", "32N", "N"),
    ("32Q", "Airbus A321neo", "Airbus A321neo", "32Q", "N"),
    ("733", "Boeing 737-300", "Boeing 737-300", "*", "N"),
    ("738", "Boeing 737-800", "Boeing 737-800", "*", "N"),
    ("7M8", "Boeing 737 MAX 8", "Boeing 737 MAX 8", "*", "N"),
    ("752", "Boeing 757-200", "Boeing 757-200", "*", "N"),
    ("332", "Airbus A330-200", "Airbus A330-200", "332", "W"),
    ("333", "Airbus A330-300", "Airbus A330-300", "333", "W"),
    ("339", "Airbus A330-900neo", "Airbus A330-900neo", "339", "W"),
    ("343", "Airbus A340-300", "Airbus A340-300", "343", "W"),
    ("346", "Airbus A340-600", "Airbus A340-600", "346", "W"),
    ("359", "Airbus A350-900", "Airbus A350-900", "359", "W"),
    ("351", "Airbus A350-1000", "Airbus A350-1000", "*", "W"),
    ("388", "Airbus A380-800", "Airbus A380-800", "388", "W"),
    ("744", "Boeing 747-400", "Boeing 747-400", "744", "W"),
    ("74H", "Boeing 747-8I", "Boeing 747-8I", "74H", "W"),
    ("763", "Boeing 767-300", "Boeing 767-300", "763", "W"),
    ("772", "Boeing 777-200", "Boeing 777-200", "*", "W"),
    ("77W", "Boeing 777-300ER", "Boeing 777-300ER", "77W", "W"),
    ("788", "Boeing 787-8", "Boeing 787-8", "*", "W"),
    ("789", "Boeing 787-9", "Boeing 787-9", "789", "W"),
    ("78J", "Boeing 787-10", "Boeing 787-10", "*", "W"),
    ("77F", "Boeing 777 Freighter", "Boeing 777 Frachter", "77F", "W"),
)

# Fleets of the group carriers (by size class); other carriers fly any type of the class.
FLEETS: dict[str, dict[str, tuple[str, ...]]] = {
    "LH": {"R": ("E90", "E95", "CR9", "221"), "N": ("319", "320", "321", "32N", "32Q"),
           "W": ("333", "339", "343", "346", "359", "388", "744", "74H", "789")},
    "CL": {"R": ("CR9", "E90", "E95"), "N": ("32N", "320"), "W": ("333",)},
    "EN": {"R": ("E95", "295"), "N": ("E95",), "W": ("E95",)},
    "LX": {"R": ("221", "223"), "N": ("223", "320", "321", "32N", "32Q"), "W": ("333", "343", "77W")},
    "OS": {"R": ("E95", "DH4"), "N": ("320", "321", "E95"), "W": ("763", "77W", "789")},
    "EW": {"R": ("319", "320"), "N": ("319", "320", "32N"), "W": ("333",)},
    "SN": {"R": ("319", "DH4"), "N": ("319", "320", "32N"), "W": ("333",)},
    "4Y": {"R": ("320",), "N": ("320", "32N"), "W": ("333", "789")},
    "WK": {"R": ("320",), "N": ("320", "32N"), "W": ("343", "359")},
}  # fmt: skip

# Registration prefixes (real national marks, without the dash as Lufthansa prints them).
REGISTRATION_PREFIX: dict[str, str] = {
    "LH": "DAI", "CL": "DAC", "EN": "IADJ", "EW": "DAE", "4Y": "DAI", "LX": "HBJ", "WK": "HBJ",
    "2L": "HBJ", "OS": "OEL", "SN": "OOS", "UA": "N", "AC": "CF", "NH": "JA", "SQ": "9V",
    "TK": "TCJ", "AF": "FG", "KL": "PHB", "BA": "GE", "IB": "ECM", "AY": "OHL", "SK": "SER",
    "LO": "SPL", "TP": "CSTN", "A3": "SXD", "OU": "9AC", "JU": "YUA", "CA": "B", "OZ": "HL",
    "ET": "ETA", "MS": "SUG", "TG": "HST", "NZ": "ZKN", "AI": "VTA", "SA": "ZSS", "LA": "CCB",
    "AV": "N", "CM": "HP", "EK": "A6E", "QR": "A7A", "DL": "N", "AA": "N", "FR": "EIF",
    "U2": "GEZ", "VY": "ECN",
}  # fmt: skip

# Marketing-carrier mix of a hub's own flights (weights).  Group carriers dominate.
CARRIER_MIX: tuple[tuple[str, float], ...] = (
    ("LH", 52.0), ("EW", 7.0), ("LX", 5.0), ("OS", 4.0), ("4Y", 4.0), ("SN", 3.0), ("EN", 2.0),
    ("WK", 1.0), ("UA", 3.0), ("AC", 2.0), ("TK", 2.0), ("NH", 1.5), ("SQ", 1.0), ("AF", 1.0),
    ("KL", 1.0), ("BA", 1.0), ("IB", 0.7), ("AY", 0.7), ("SK", 0.7), ("LO", 0.7), ("TP", 0.6),
    ("A3", 0.6), ("OU", 0.4), ("JU", 0.3), ("CA", 0.4), ("OZ", 0.3), ("ET", 0.4), ("MS", 0.4),
    ("TG", 0.3), ("AI", 0.3), ("EK", 0.5), ("QR", 0.4), ("DL", 0.3), ("AA", 0.3),
)  # fmt: skip

# Lufthansa-marketed flights that another group carrier operates (wet lease / regional).
LH_OPERATORS: tuple[str, ...] = ("CL", "EN", "4Y")

# Terminals and gate letters per terminal for airports where they are well known.
TERMINALS: dict[str, dict[str, str]] = {
    "FRA": {"1": "ABCZ", "2": "DE"},
    "MUC": {"1": "BCDF", "2": "GHKL"},
    "ZRH": {"1": "ABE"},
    "VIE": {"1": "CDF", "3": "FG"},
    "BRU": {"1": "AB"},
    "DUS": {"1": "ABC"},
    "HAM": {"1": "AB", "2": "C"},
    "BER": {"1": "ABC", "2": "D"},
    "LHR": {"2": "AB", "3": "CD", "5": "ABC"},
    "CDG": {"1": "ABC", "2": "DEFG"},
    "JFK": {"1": "A", "4": "AB", "8": "B"},
}

# Typical daily departure profile (relative weight of each local hour 0..23).
HOURLY_PROFILE: tuple[float, ...] = (
    0.15, 0.05, 0.02, 0.02, 0.05, 0.4, 2.2, 3.2, 3.0, 2.8, 2.9, 3.0,
    3.0, 2.9, 2.8, 3.0, 3.2, 3.3, 3.2, 2.9, 2.4, 1.8, 1.2, 0.5,
)  # fmt: skip

TIME_STATUS: dict[str, str] = {
    "FE": "Flight Early",
    "OT": "Flight On Time",
    "DL": "Flight Delayed",
    "NI": "Next Information",
    "NO": "No status",
}

FLIGHT_STATUS: dict[str, str] = {
    "DP": "Flight Departed",
    "LD": "Flight Landed",
    "CD": "Flight Cancelled",
    "RT": "Flight Rerouted",
    "DV": "Flight Diverted",
    "NA": "No status",
}
