"""Demo data of the services (called by `manage.py load_demo`): hosting usage, backups and CMS
updates, orders, domain requests in several states, DNS zones with records of every type,
certificates in every state, Microsoft 365 licences and a price change. Created once."""

import datetime
from decimal import Decimal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from services import certificates, dns, domains, hosting, m365, orders
from services.models import DnsZone, Kind, Plan, Service

RECORDS = [
    ("@", "A", "192.0.2.10"), ("@", "AAAA", "2001:db8::10"), ("www", "CNAME", "@"), ("@", "MX", "10 mail"),
    ("mail", "A", "192.0.2.25"), ("@", "TXT", "v=spf1 mx -all"), ("_dmarc", "TXT", "v=DMARC1; p=quarantine"),
    ("s1._domainkey", "TXT", "v=DKIM1; k=rsa; p=" + "A" * 400), ("_sip._tcp", "SRV", "10 5 5060 sip.example.net."),
    ("@", "CAA", '0 issue "letsencrypt.org"'), ("lab", "NS", "ns1.lab-hosting.example."),
    ("*.shop", "A", "192.0.2.40"), ("café", "A", "192.0.2.30"),
]  # fmt: skip


def load(customers, *, now: datetime.datetime) -> int:
    acme, globex = customers["Acme SRL"], customers["Globex NV"]
    if DnsZone.objects.filter(service__customer=acme).exists():
        return 0
    today = now.date()
    staff = User.objects.get(email="staff@portal.example")
    owner = User.objects.get(email="owner@acme.example")
    tech = User.objects.get(email="tech@acme.example")
    globex_owner = User.objects.get(email="owner@globex.example")
    _hosting(acme, staff, owner, now)
    _orders(acme, globex, owner, globex_owner, staff, now)
    _domains(acme, globex, owner, tech, staff, now, today)
    _certificates(acme, owner, staff, now)
    _m365(acme, owner, staff, now, today)
    return 1


def _hosting(acme, staff, owner, now) -> None:
    site = Service.objects.get(customer=acme, name="www.acme.example")
    hosting.record_usage(
        service=site, disk_mb=9300, traffic_mb=38 * 1024, measured_at=now - datetime.timedelta(hours=3)
    )
    for day in range(16):  # 14 days listed, the 2 oldest not
        taken = (now - datetime.timedelta(days=day)).replace(hour=3, minute=0, second=0, microsecond=0)
        hosting.record_backup(service=site, reference=f"daily-{taken:%Y-%m-%d}", taken_at=taken, size_mb=800 + 5 * day)
    cms = Service.objects.get(customer=acme, parent=site, plan__kind=Kind.MANAGED_CMS)
    old = hosting.record_cms_update(service=cms, description="WordPress 6.7 and 3 plugins updated.", by=staff,
                                    now=now - datetime.timedelta(days=10))  # fmt: skip
    hosting.confirm_cms_update(update=old, by=owner, now=now - datetime.timedelta(days=9))
    hosting.record_cms_update(service=cms, description="Security patch 6.7.1.", by=staff,
                              now=now - datetime.timedelta(hours=5))  # fmt: skip


def _orders(acme, globex, owner, globex_owner, staff, now) -> None:
    start = Plan.objects.get(kind=Kind.SHARED_HOSTING, name="Hosting Start")
    orders.place_order(customer=acme, by=owner, lines=[(start, "shop.acme.example", 1, None)])  # awaits staff
    refused = orders.place_order(customer=globex, by=globex_owner, lines=[(start, "globex.example", 1, None)])
    orders.refuse_order(order=refused, by=staff, reason="We cannot host a site for a domain you do not hold yet.")


def _domains(acme, globex, owner, tech, staff, now, today) -> None:
    plan = Plan.objects.get(kind=Kind.DOMAIN, name=".be domain")
    for service in Service.objects.filter(plan__kind=Kind.DOMAIN, customer__in=[acme, globex]):
        dns.create_zone(service=service, name=service.name, by=staff, today=today)
    zone = DnsZone.objects.get(name="acme.be")
    for name, type_, value in RECORDS:
        zone.refresh_from_db()
        dns.add_record(zone=zone, name=name, type=type_, ttl=3600, value=value, expected_serial=zone.serial, by=owner)
    domains.submit_request(customer=acme, by=owner, kind="register", domain="acme-shop.be", years=2, plan=plan)
    asked = domains.submit_request(customer=acme, by=owner, kind="register", domain="acmé.be", plan=plan)
    domains.set_status(request=asked, status="information_requested", by=staff,
                       message="DNS Belgium asks for proof of the ACME trademark.")  # fmt: skip
    answered = domains.submit_request(customer=acme, by=owner, kind="register", domain="acme-brand.be", plan=plan)
    domains.set_status(request=answered, status="information_requested", by=staff, message="Proof of the trademark?")
    domains.answer(
        request=answered,
        by=owner,
        body="Our trademark certificate.",
        document=SimpleUploadedFile("trademark.pdf", b"%PDF-1.4 demo", content_type="application/pdf"),
    )
    traded = domains.submit_request(customer=acme, by=owner, kind="trade", domain="acme-old.com",
                                    new_owner="Acme SRL\nRue de la Loi 16\n1000 Bruxelles")  # fmt: skip
    domains.reject(request=traded, by=staff, message="The current owner did not confirm the trade (art. 4.2.2).")
    hosted = domains.submit_request(customer=acme, by=tech, kind="dns_hosting", domain="acme-group.com")
    domains.complete(request=hosted, by=staff, today=today)


def _certificates(acme, owner, staff, now) -> None:
    plan = Plan.objects.filter(kind=Kind.SSL_CERTIFICATE).order_by("price").first()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Demo Issuing CA")])

    def issue(request, days_left: int) -> None:
        csr = x509.load_pem_x509_csr(request.csr_pem.encode())
        cert = (
            x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_name).public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=365 - days_left))
            .not_valid_after(now + datetime.timedelta(days=days_left))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in request.names]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        certificates.install_certificate(request=request, pem=pem, chain="", by=staff, now=now)

    def ask(names):
        return certificates.request_certificate(customer=acme, by=owner, names=names, plan=plan, key_type="ec256")

    issue(ask(["www.acme.be", "acme.be"]), 10)  # expiring in 10 days
    issue(ask(["shop.acme.be"]), 40)  # expiring in 40 days
    certificates.set_status(request=ask(["mail.acme.be"]), status="validating", by=staff, message="Filed with the CA.")
    certificates.set_status(request=ask(["acme-shop.example"]), status="information_requested", by=staff,
                            message="The CA needs proof of the trade name “Acme Shop” (art. 5.1.1).")  # fmt: skip
    certificates.set_status(request=ask(["old.acme.be"]), status="rejected", by=staff,
                            message="Domain validation failed.")  # fmt: skip
    ask(["intranet.acme.be"])  # requested
    old = ask(["api.acme.be"])
    issue(old, 200)
    renewal = certificates.request_certificate(customer=acme, by=owner, names=old.names, plan=plan, replaces=old)
    issue(renewal, 365)  # the old one becomes "replaced"
    revoked = ask(["cdn.acme.be"])
    issue(revoked, 300)
    certificates.record_revocation(certificate=revoked.certificates.get(), by=staff, customer_fault=False,
                                   reason="The CA revoked a batch it mis-issued.")  # fmt: skip


def _m365(acme, owner, staff, now, today) -> None:
    pack = Service.objects.get(customer=acme, plan__kind=Kind.M365_PACK)
    m365.mark_done(change=m365.start_licences(service=pack, by=staff, now=now - datetime.timedelta(days=90)), by=staff)
    m365.change_licences(service=pack, delta=2, by=owner, now=now)  # shown as being applied at Microsoft
    effective_on = today + datetime.timedelta(days=45)
    price = pack.plan.price + Decimal("0.70")
    change = m365.record_price_change(plan=pack.plan, price=price, effective_on=effective_on, by=staff, today=today)
    m365.announce_price_change(change=change, now=now, by=staff)
