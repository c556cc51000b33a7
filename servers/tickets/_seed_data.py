"""The raw material of the demo queue: the support team, the merchants who write in, and what they write.

Harbor (the company of the knowledge base's help centre) sells an online-store platform; its
customers are merchants. Every e-mail domain is under ``.example`` (RFC 2606), so nothing the
demo data holds can reach a real mailbox.

Placeholders in the texts (``{order}``, ``{invoice}`` ...) are filled by `servers.tickets._seed`.
"""

from __future__ import annotations

from servers.tickets._workflow import Category

__all__ = ["AGENTS", "CUSTOMERS", "FOLLOW_UPS", "INTERNAL_NOTES", "RESOLUTIONS", "TEAM_FOR", "TOPICS"]

# handle, name, team
AGENTS: tuple[tuple[str, str, str], ...] = (
    ("priya.nair", "Priya Nair", "Tier 2"),
    ("marcus.chen", "Marcus Chen", "Billing"),
    ("sofia.alvarez", "Sofía Álvarez", "Tier 1"),
    ("tom.okafor", "Tom Okafor", "Tier 1"),
    ("hannah.weber", "Hannah Weber", "Operations"),
    ("luis.romero", "Luis Romero", "API & Integrations"),
    ("aiko.tanaka", "Aiko Tanaka", "Trust & Safety"),
    ("daniel.kim", "Daniel Kim", "Tier 2"),
)

# Which handles usually take each category.
TEAM_FOR: dict[Category, tuple[str, ...]] = {
    "billing": ("marcus.chen", "sofia.alvarez"),
    "account": ("sofia.alvarez", "tom.okafor", "priya.nair"),
    "orders": ("tom.okafor", "sofia.alvarez", "daniel.kim"),
    "shipping": ("daniel.kim", "tom.okafor"),
    "returns": ("sofia.alvarez", "daniel.kim"),
    "api": ("luis.romero", "priya.nair"),
    "security": ("aiko.tanaka", "priya.nair"),
    "outage": ("hannah.weber", "priya.nair"),
}

# contact name, e-mail, company
CUSTOMERS: tuple[tuple[str, str, str], ...] = (
    ("Olivia Bennett", "olivia@mapleandrye.example", "Maple & Rye Bakery"),
    ("Jamal Wright", "jamal.wright@northwindoutfitters.example", "Northwind Outfitters"),
    ("Chloé Martin", "chloe@atelier-lumiere.example", "Atelier Lumière"),
    ("Ben Fischer", "ben@fischerbikes.example", "Fischer Bikes"),
    ("Grace Liu", "grace.liu@lotusteahouse.example", "Lotus Tea House"),
    ("Samuel Osei", "sam@accrathreads.example", "Accra Threads"),
    ("Emma Johansson", "emma@nordicnest.example", "Nordic Nest Home"),
    ("Ravi Patel", "ravi@spiceroute.example", "Spice Route Pantry"),
    ("Megan O'Brien", "megan@cliffsidecandles.example", "Cliffside Candles"),
    ("Diego Hernández", "diego@cafeterraalta.example", "Café Terra Alta"),
    ("Hannah Schmidt", "h.schmidt@bergkeramik.example", "Berg Keramik"),
    ("Kwame Mensah", "kwame@goldcoastgear.example", "Gold Coast Gear"),
    ("Lucy Turner", "lucy@paperandquill.example", "Paper & Quill"),
    ("Yuki Sato", "yuki@kumadenim.example", "Kuma Denim"),
    ("Isabella Rossi", "isabella@trattoriashop.example", "Trattoria Shop"),
    ("Noah Williams", "noah@summitsupply.example", "Summit Supply Co."),
    ("Fatima Zahra", "fatima@atlasrugs.example", "Atlas Rugs"),
    ("Oliver Brown", "oliver@brownandsonsbooks.example", "Brown & Sons Books"),
    ("Mia Andersson", "mia@fjordknits.example", "Fjord Knits"),
    ("Carlos Mendes", "carlos@lisboaceramics.example", "Lisboa Ceramics"),
    ("Aisha Bello", "aisha@lagosluxe.example", "Lagos Luxe Beauty"),
    ("Jack Thompson", "jack@outbackoutdoor.example", "Outback Outdoor"),
    ("Sophie Dubois", "sophie@fromagerie-dubois.example", "Fromagerie Dubois"),
    ("Ethan Clarke", "ethan@clarkecoffee.example", "Clarke Coffee Roasters"),
    ("Ana Costa", "ana@tropicalbloom.example", "Tropical Bloom Florals"),
    ("Liam Murphy", "liam@emeraldpets.example", "Emerald Pet Supplies"),
    ("Zoe Nguyen", "zoe@saigonstreetkitchen.example", "Saigon Street Kitchen"),
    ("Max Müller", "max@muellerwerkzeug.example", "Müller Werkzeug"),
    ("Priyanka Rao", "priyanka@indigoprints.example", "Indigo Prints"),
    ("Tom Becker", "tom@beckerbrew.example", "Becker Brewing Supplies"),
)

# category -> (subject, description) templates
TOPICS: dict[Category, tuple[tuple[str, str], ...]] = {
    "billing": (
        (
            "Charged twice for invoice {invoice}",
            "Hi, our card was charged {amount} twice on {date} for invoice {invoice}. "
            "Can you refund the duplicate charge? Our bookkeeper needs it sorted before month end.",
        ),
        (
            "Refund for unused seats on the Growth plan",
            "We removed {count} staff seats on {date} but the next invoice still bills for them. "
            "Please credit the difference ({amount}).",
        ),
        (
            "VAT number missing from invoice {invoice}",
            "Invoice {invoice} doesn't show our VAT number even though it's in the billing settings. "
            "We need a corrected copy for our accountant.",
        ),
        (
            "Card declined when upgrading to the Scale plan",
            "Trying to upgrade and the card keeps getting declined, but the bank says there's no block. "
            "Tried twice today, error says 'payment could not be authorised'.",
        ),
    ),
    "account": (
        (
            "Password reset email never arrives",
            "I've requested a password reset four times since {date} and nothing arrives, not even in spam. "
            "I'm locked out of the admin.",
        ),
        (
            "Please add a second admin to our account",
            "Our operations manager needs admin access while I'm on leave from {date}. "
            "The invite button is greyed out for me.",
        ),
        (
            "Locked out after enabling two-factor authentication",
            "I turned on 2FA yesterday and my phone was replaced this morning. The backup codes were on the "
            "old phone. How do I get back in?",
        ),
        (
            "SSO login loops back to the sign-in page",
            "Since we switched our identity provider on {date}, staff who sign in with SSO land back on the "
            "sign-in page. Password logins still work.",
        ),
    ),
    "orders": (
        (
            "Order {order} stuck in 'processing' for {days} days",
            "Order {order} was paid on {date} but has been 'processing' for {days} days. The customer is "
            "asking for an update and I can't mark it fulfilled.",
        ),
        (
            "Wrong quantity on order {order}",
            "The customer ordered {count} units but order {order} shows 1. The payment was for {amount}, "
            "which matches {count} units.",
        ),
        (
            "Bulk order import fails at row {row}",
            "Our CSV import of wholesale orders stops at row {row} with 'invalid variant'. "
            "The SKU on that row exists and sells fine in the store.",
        ),
        (
            "Cancel order {order} before it ships",
            "The customer asked us to cancel order {order} an hour after placing it. It shows 'ready to ship'; "
            "can it still be stopped and refunded ({amount})?",
        ),
    ),
    "shipping": (
        (
            "Tracking for order {order} hasn't updated since {date}",
            "The {carrier} tracking for order {order} has said 'label created' since {date}. "
            "The parcel was collected, we have the driver's scan.",
        ),
        (
            "{carrier} labels fail for international orders",
            "Since this morning every international {carrier} label fails with 'customs data incomplete'. "
            "Domestic labels work. We have {count} orders waiting.",
        ),
        (
            "Shipping rates show $0.00 at checkout",
            "Customers in some postcodes see $0.00 shipping at checkout. We lost {amount} on postage "
            "this week. Rates were last edited on {date}.",
        ),
        (
            "Package for order {order} delivered to the wrong address",
            "The customer changed the address after ordering and the label still printed the old one. "
            "Order {order}, shipped with {carrier}.",
        ),
    ),
    "returns": (
        (
            "Return label for order {order} not generated",
            "The customer started a return for order {order} on {date} but never got a label, and the "
            "return page shows 'pending' with no download link.",
        ),
        (
            "Return received but refund not issued (order {order})",
            "We marked the return for order {order} as received on {date} but the {amount} refund "
            "hasn't gone out. The customer has emailed three times.",
        ),
        (
            "Restocking fee charged on a defective item",
            "A customer returned a defective item (order {order}) and the system deducted a restocking "
            "fee. Our policy waives it for defects. How do we refund the fee?",
        ),
    ),
    "api": (
        (
            "Webhook deliveries failing with HTTP {code}",
            "Our order.created webhooks started failing with HTTP {code} on {date}. Our endpoint logs show "
            "no requests arriving. The signing secret hasn't changed.",
        ),
        (
            "Rate limited at {rpm} requests per minute",
            "Our inventory sync hits 429s at about {rpm} requests per minute during the nightly run. "
            "Can the limit be raised for our store, or is there a bulk endpoint?",
        ),
        (
            "GET /v2/orders returns 500 for older orders",
            "GET /v2/orders?created_before={date} returns a 500 with request id req_{hex}. "
            "Newer orders come back fine.",
        ),
        (
            "Old API key still works after rotation",
            "We rotated our API key on {date} after a contractor left, but requests with the old key "
            "still succeed. Shouldn't it be revoked?",
        ),
    ),
    "security": (
        (
            "Suspicious admin login from an unknown location",
            "We got a new-login alert for our owner account from a country none of us is in, at "
            "{time} on {date}. Password has been changed. What else should we do?",
        ),
        (
            "Request for SOC 2 report and DPA",
            "Our new enterprise customer asks for your SOC 2 Type II report and a signed DPA before "
            "{date}. Who can send these?",
        ),
        (
            "Revoke all sessions for a former employee",
            "A staff member left on {date}. We removed their account but want to be sure every "
            "session and API token they had is revoked.",
        ),
    ),
    "outage": (
        (
            "Checkout timing out for all customers",
            "Since about {time} checkout spins and then times out. Customers are messaging us on social "
            "media. Is there an incident?",
        ),
        (
            "Admin dashboard very slow since this morning",
            "The dashboard takes 30+ seconds to load orders since this morning. Started around {time}.",
        ),
        (
            "Order confirmation emails delayed by hours",
            "Customers are getting order confirmations {count} hours late, starting {date}. "
            "Several have placed duplicate orders because of it.",
        ),
    ),
}

INTERNAL_NOTES: dict[Category, tuple[str, ...]] = {
    "billing": (
        "Checked the payment processor: two captures for {invoice}, the second a retry after a gateway "
        "timeout. Refund of {amount} is safe.",
        "Seat count changed mid-cycle; proration didn't run. Raising with billing engineering.",
    ),
    "account": (
        "Identity verified against the owner's phone on file before making account changes.",
        "Email provider is bouncing our reset mails (550 policy). Added to the allowlist request.",
    ),
    "orders": (
        "Fulfilment job for {order} failed on a variant that was archived after purchase.",
        "Looks like the import template changed in the last release; row {row} uses the old column order.",
    ),
    "shipping": (
        "{carrier} API returned 'customs data incomplete' for all HS codes; status page shows a partial outage.",
        "Rate table has an empty zone for the postcode range; that's where the $0.00 comes from.",
    ),
    "returns": (
        "Return label job queued behind the carrier outage; regenerated manually.",
        "Restocking fee rule didn't check the 'defective' reason code. Filed a bug with the returns team.",
    ),
    "api": (
        "Webhook endpoint's TLS certificate expired on {date}; our deliveries fail the handshake.",
        "Traced req_{hex}: legacy orders have a null currency field that the v2 serializer rejects.",
    ),
    "security": (
        "Login came from a known VPN exit node. Forced sign-out of all sessions and required 2FA.",
        "Sent the SOC 2 report via the trust portal; DPA countersigned by legal.",
    ),
    "outage": (
        "Linked to the ongoing incident on the status page (checkout latency). Updates every 30 minutes.",
        "Email queue backed up after a provider throttle; ops is draining it.",
    ),
}

FOLLOW_UPS: tuple[str, ...] = (
    "Thanks for the quick reply. Any update on this?",
    "Following up: this is still happening for us today.",
    "I've attached the screenshot you asked for. Let me know if you need anything else.",
    "Just checking in, our customers keep asking about it.",
)

RESOLUTIONS: dict[Category, tuple[str, ...]] = {
    "billing": (
        "I've refunded {amount}; it should appear on your statement within 5–10 business days.",
        "I've issued a corrected invoice {invoice} with your VAT number; you'll find it under Billing > Invoices.",
    ),
    "account": (
        "You're back in: I've reset two-factor authentication so you can enrol your new phone.",
        "The second admin invite has been sent. They'll need to accept it within 7 days.",
    ),
    "orders": (
        "Order {order} has been re-queued and is now fulfilled. Sorry for the delay!",
        "The import template is fixed; re-running your CSV should go through all rows now.",
    ),
    "shipping": (
        "{carrier} has fixed the customs issue on their side; labels are generating again.",
        "The empty rate zone is filled in, so checkout now shows the right shipping price.",
    ),
    "returns": (
        "The return label for order {order} is now on the return page and in the customer's inbox.",
        "The restocking fee has been refunded and the rule now skips defective returns.",
    ),
    "api": (
        "Once the certificate was renewed our retries went through; webhooks are delivering again.",
        "The fix for older orders is deployed; GET /v2/orders works for every date now.",
    ),
    "security": (
        "All sessions and API tokens for that user are revoked; nothing else was accessed.",
        "The SOC 2 report and countersigned DPA are in your trust-portal inbox.",
    ),
    "outage": (
        "The incident is resolved and checkout is back to normal. Full write-up on our status page.",
        "The email backlog is cleared; new confirmations go out within a minute again.",
    ),
}
