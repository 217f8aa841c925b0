import time

from django.core.management.base import BaseCommand, CommandError

from plantops.telemetry import gateways


class Command(BaseCommand):
    help = (
        "Bring the MQTT broker's identities in step with PlantOps: default access, the ingest's "
        "read-only role (user and password from MQTT_URL), every gateway, no leftover gateway. "
        "Safe to run at every start and as often as wanted."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="Keep trying this long while the broker cannot be reached (at start-up).",
        )

    def handle(self, *args, **options) -> None:
        deadline = time.monotonic() + options["wait"]
        while True:
            try:
                report = gateways.broker_sync_all()
                break
            except gateways.BrokerUnavailable as error:
                if time.monotonic() >= deadline:
                    raise CommandError(str(error)) from None
                self.stderr.write(f"{error}; trying again")
                time.sleep(1.0)
            except gateways.BrokerError as error:
                raise CommandError(str(error)) from None
        self.stdout.write(f"ingest: {report.ingest}")
        self.stdout.write(f"gateways in step: {report.gateways}")
        if report.removed:
            self.stdout.write(f"removed from the broker: {', '.join(report.removed)}")
        for username, why in report.refused.items():
            self.stderr.write(self.style.ERROR(f"gateway {username} refused: {why}"))
        if report.without_password:
            self.stdout.write(
                self.style.WARNING(
                    "the broker had lost these gateways; they need a new password: "
                    + ", ".join(report.without_password)
                )
            )
        if report.refused:
            raise CommandError(f"{len(report.refused)} gateways are not on the broker")
