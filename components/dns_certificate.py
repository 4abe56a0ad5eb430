"""A public ACM certificate validated through the environment's own hosted zone.

ACM asks for one CNAME per name; the same name in two regions (a regional API domain and a CloudFront alias)
gets the same CNAME, so a certificate can reuse another's validation records instead of writing them twice.
`arn` is the validated certificate: whatever uses it waits for the validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class DnsCertificateArgs:
    """One certificate."""

    #: The name it is for, e.g. "api.prod.openbanking.example-bank.co.uk".
    domain_name: str
    #: The hosted zone that holds `domain_name` (the validation records go there).
    zone_id: pulumi.Input[str]
    #: Further names on it; each must be in the same zone.
    alternative_names: Sequence[str] = field(default_factory=tuple)
    #: The certificate's region when not the provider's: "us-east-1" for CloudFront.
    region: str | None = None
    #: Validation record FQDNs another certificate for the same names already wrote; None: write them here.
    validation_fqdns: pulumi.Input[Sequence[str]] | None = None


class DnsCertificate(pulumi.ComponentResource):
    """Certificate, its validation records, and the validation it waits for."""

    arn: pulumi.Output[str]
    validation_fqdns: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DnsCertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:DnsCertificate", name, None, opts)
        names = [args.domain_name, *args.alternative_names]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: names {names} repeat")
        child = pulumi.ResourceOptions(parent=self)
        self.certificate = aws.acm.Certificate(
            name, domain_name=args.domain_name, subject_alternative_names=list(args.alternative_names) or None,
            validation_method="DNS", key_algorithm="EC_prime256v1", region=args.region,
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False))
        if args.validation_fqdns is None:
            fqdns: list[pulumi.Output[str]] = []
            for index, domain in enumerate(names):
                option = self.certificate.domain_validation_options.apply(
                    lambda options, d=domain: next(o for o in options if o.domain_name == d))
                record = aws.route53.Record(
                    f"{name}-validation-{index}", zone_id=args.zone_id, type="CNAME", ttl=300,
                    name=option.apply(lambda o: str(o.resource_record_name)),
                    records=[option.apply(lambda o: str(o.resource_record_value))],
                    # The same name's certificate in another region asks for this very record.
                    allow_overwrite=True, opts=child)
                fqdns.append(record.fqdn)
            self.validation_fqdns = pulumi.Output.all(*fqdns).apply(list)
        else:
            self.validation_fqdns = pulumi.Output.from_input(args.validation_fqdns).apply(list)
        validation = aws.acm.CertificateValidation(
            f"{name}-validation", certificate_arn=self.certificate.arn, validation_record_fqdns=self.validation_fqdns,
            region=args.region, opts=child)
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
