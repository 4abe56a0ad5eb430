"""The Squid forward-proxy fleet: an EC2 Auto Scaling group behind an internal NLB, spread across the
egress VPC's services subnets, reached by the spokes at `proxy.<domain>:3128`.

Why EC2 and not Fargate is written down in docs/network.md. The hosts: Amazon Linux 2023 (Graviton),
resolved from the public SSM parameter at every launch and replaced at least weekly
(`max_instance_lifetime`), so patching is a rolling replacement; IMDSv2 only with hop limit 1; the root
volume encrypted with the account's EBS key; no public IP; no SSH (Session Manager only). squid.conf is
rendered here from the same allow-list the Network Firewall enforces, so the two controls never drift.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PROXY_PORT = 3128
#: Amazon Linux 2023 for Graviton, resolved by EC2 at launch time from AWS's public SSM parameter.
AMI_PARAMETER = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
MAX_INSTANCE_LIFETIME_SECONDS = 7 * 24 * 3600
#: Destinations the proxy never forwards to, whatever DNS says (SSRF, DNS rebinding).
#: Never a destination: private, shared (CGNAT), loopback, link-local, "this network", IETF and benchmarking,
#: documentation, multicast and reserved ranges, and their IPv6 counterparts (IPv4-mapped included). Squid resolves
#: a name itself and checks every address, so a TPP callback re-pointed at one of these is refused here.
INTERNAL_DESTINATIONS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8",
                         "100.64.0.0/10", "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
                         "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
                         "::1", "::/128", "::ffff:0:0/96", "64:ff9b::/96", "2002::/16", "fc00::/7", "fe80::/10",
                         "ff00::/8", "2001:db8::/32")
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.[a-z0-9]+$")


@dataclass(frozen=True)
class EgressProxyArgs:
    """The Squid fleet: where it runs, who may use it, where it may go and how big it is."""

    #: Prefix of physical names: the NLB (`<prefix>-egress-proxy`, cut to 32 characters), the
    #: instances' `Name` tag, the NLB access-log prefix and the Auto Scaling role's suffix.
    name_prefix: str
    #: The egress VPC: the NLB, target group, security groups and private hosted zone are in it.
    vpc_id: pulumi.Input[str]
    #: The egress VPC's services subnets (one per AZ) the NLB and the Auto Scaling group spread across.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Who may use the proxy: the spoke VPC CIDRs, admitted on port 3128 by the NLB's security group
    #: and by Squid's `spokes` ACL.
    client_cidrs: Sequence[str]
    #: Domains Squid forwards to (`dstdomain`; `.example.com` also covers its subdomains), the list
    #: the Network Firewall allows too. Empty: Squid forwards nothing.
    allowed_domains: Sequence[str]
    #: `proxy.<domain>`: the private hosted zone spokes resolve the proxy at; its A record aliases the NLB.
    zone_name: str
    #: The account's EBS key: encrypts the hosts' root volumes (20 GiB gp3); the fleet's Auto Scaling
    #: role gets a KMS grant on it so it can launch them.
    ebs_kms_key_arn: pulumi.Input[str]
    #: Bucket (name) the NLB writes its access logs to, under `load-balancers/<prefix>-egress-proxy/`.
    log_bucket_name: pulumi.Input[str]
    #: EC2 instance type of the hosts: a Graviton (arm64) type such as "t4g.small"; any other is refused.
    instance_type: str = "t4g.small"
    #: Fewest hosts the Auto Scaling group keeps running; also the size it starts at.
    min_size: int = 2
    #: Most hosts the group scales out to.
    max_size: int = 4
    #: Average CPU utilisation of the fleet, in percent, that target tracking holds: hosts are
    #: added above it and removed below it.
    target_cpu_percent: float = 60.0
    #: The TPPs' event-notification callback domains: tunnelled (CONNECT to 443 only) for `callback_senders` alone.
    callback_domains: Sequence[str] = ()
    #: Who may reach `callback_domains`: the VPC of the account running the events service (its delivery function).
    callback_senders: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.callback_domains and not self.callback_senders:
            raise ValueError("EgressProxyArgs.callback_senders: empty, so callback_domains would be let out to "
                             "nobody; name the events service's VPC")
        strangers = sorted(set(self.callback_senders) - set(self.client_cidrs))
        if strangers:
            raise ValueError(f"EgressProxyArgs.callback_senders: {strangers} are not among client_cidrs; the proxy's "
                             "load balancer admits the spokes only")


def proxy_url(domain: str) -> str:
    """Where the spokes' clients find the proxy: `http://proxy.<domain>:3128` (the private zone's record)."""
    return f"http://proxy.{domain}:{PROXY_PORT}"


def squid_conf(allowed_domains: Sequence[str], client_cidrs: Sequence[str], port: int = PROXY_PORT, *,
               callback_domains: Sequence[str] = (), callback_senders: Sequence[str] = ()) -> str:
    """squid.conf for an allow-list forward proxy: HTTPS via CONNECT and plain HTTP to the allow-listed
    domains, from the spokes only; HTTPS tunnels to the TPP callback domains from the events service's VPC only;
    nothing internal; no caching; no identifying headers."""
    lines = [
        "# Rendered by the landing zone from network.egressAllowedDomains and network.callbackDomains; changes are",
        "# rolled out by replacing the instances, never edited on a host.",
        f"http_port {port}",
        f"acl spokes src {' '.join(client_cidrs)}" if client_cidrs else "acl spokes src 127.0.0.1/32",
        "acl SSL_ports port 443",
        "acl Safe_ports port 80 443",
        "acl CONNECT method CONNECT",
        f"acl internal_dst dst {' '.join(INTERNAL_DESTINATIONS)}",
        "http_access deny !Safe_ports",
        "http_access deny CONNECT !SSL_ports",
        "http_access deny internal_dst",
        "http_access deny to_localhost",
    ]
    if allowed_domains:
        lines += [f"acl allowed_domains dstdomain {' '.join(allowed_domains)}",
                  "http_access allow spokes allowed_domains"]
    if callback_domains and callback_senders:
        lines += [f"acl callback_senders src {' '.join(callback_senders)}",
                  f"acl callback_domains dstdomain {' '.join(callback_domains)}",
                  "http_access allow CONNECT callback_senders callback_domains"]
    lines += [
        "http_access deny all",
        "cache deny all",
        "via off",
        "forwarded_for delete",
        "httpd_suppress_version_string on",
        "logformat lz %ts.%03tu %>a %Ss/%03>Hs %<st %rm %ru %<A",
        "access_log daemon:/var/log/squid/access.log lz",
        "shutdown_lifetime 10 seconds",
    ]
    return "\n".join(lines) + "\n"


def user_data(conf: str) -> str:
    """cloud-init shell script: install Squid, write the rendered config, start it. Base64 for EC2."""
    script = "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        "dnf install -y squid",
        "cat > /etc/squid/squid.conf <<'SQUID_CONF'",
        conf.rstrip("\n"),
        "SQUID_CONF",
        "squid -k parse",
        "systemctl enable --now squid",
        "",
    ])
    return base64.b64encode(script.encode()).decode()


def _trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


class EgressProxy(pulumi.ComponentResource):
    """Squid hosts (Auto Scaling, arm64) behind an internal NLB, resolved by the spokes at `proxy.<domain>`."""

    load_balancer: aws.lb.LoadBalancer
    group: aws.autoscaling.Group
    zone: aws.route53.Zone

    def __init__(self, name: str, args: EgressProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:EgressProxy", name, None, opts)
        if not _GRAVITON.match(args.instance_type):
            raise ValueError(f"egress proxy instance type {args.instance_type!r} is not a Graviton (arm64) type; "
                             "the fleet runs the arm64 Amazon Linux 2023 image")
        child = pulumi.ResourceOptions(parent=self)

        role = aws.iam.Role(f"{name}-role", description="Squid proxy hosts: Session Manager only",
                            assume_role_policy=_trust("ec2.amazonaws.com"), opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-ssm", role=role.name,
                                     policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                                     opts=pulumi.ResourceOptions(parent=role))
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        # A service-linked role of the fleet's own, granted use of the EBS key: the default Auto Scaling
        # role may not exist yet in a fresh account, and without a grant it cannot launch encrypted volumes.
        scaling_role = aws.iam.ServiceLinkedRole(f"{name}-autoscaling-role", aws_service_name="autoscaling.amazonaws.com",
                                                 custom_suffix=f"{args.name_prefix}-egress-proxy", opts=child)
        grant = aws.kms.Grant(
            f"{name}-ebs-key-grant",
            key_id=args.ebs_kms_key_arn,
            grantee_principal=scaling_role.arn,
            operations=["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                        "GenerateDataKeyWithoutPlaintext", "DescribeKey", "CreateGrant"],
            opts=child,
        )

        lb_sg = aws.ec2.SecurityGroup(f"{name}-nlb-sg", vpc_id=args.vpc_id,
                                      description="Egress proxy NLB: the spokes on the proxy port",
                                      tags={"Name": f"{name}-nlb"}, opts=child)
        host_sg = aws.ec2.SecurityGroup(f"{name}-host-sg", vpc_id=args.vpc_id,
                                        description="Squid hosts: the NLB in, HTTP(S) out",
                                        tags={"Name": f"{name}-hosts"}, opts=child)
        for i, cidr in enumerate(args.client_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-nlb-from-spoke-{i}", security_group_id=lb_sg.id, ip_protocol="tcp", from_port=PROXY_PORT,
                to_port=PROXY_PORT, cidr_ipv4=cidr, description="spoke clients", opts=pulumi.ResourceOptions(parent=lb_sg))
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-nlb-to-hosts", security_group_id=lb_sg.id, ip_protocol="tcp", from_port=PROXY_PORT,
            to_port=PROXY_PORT, referenced_security_group_id=host_sg.id, description="to the Squid hosts",
            opts=pulumi.ResourceOptions(parent=lb_sg))
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-hosts-from-nlb", security_group_id=host_sg.id, ip_protocol="tcp", from_port=PROXY_PORT,
            to_port=PROXY_PORT, referenced_security_group_id=lb_sg.id, description="proxied traffic and health checks",
            opts=pulumi.ResourceOptions(parent=host_sg))
        for port in (80, 443):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-hosts-out-{port}", security_group_id=host_sg.id, ip_protocol="tcp", from_port=port,
                to_port=port, cidr_ipv4="0.0.0.0/0", description="out through the Network Firewall and NAT",
                opts=pulumi.ResourceOptions(parent=host_sg))

        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description="Squid forward proxy (Amazon Linux 2023, arm64)",
            image_id=AMI_PARAMETER,
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="disabled"),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true", kms_key_id=args.ebs_kms_key_arn, volume_size=20, volume_type="gp3",
                    delete_on_termination="true"),
            )],
            network_interfaces=[aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                device_index=0, associate_public_ip_address="false", security_groups=[host_sg.id],
                delete_on_termination="true")],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=user_data(squid_conf(args.allowed_domains, args.client_cidrs,
                                           callback_domains=args.callback_domains,
                                           callback_senders=args.callback_senders)),
            update_default_version=True,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={"Name": f"{args.name_prefix}-egress-proxy"}) for kind in ("instance", "volume")],
            opts=child,
        )

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-nlb",
            name=f"{args.name_prefix}-egress-proxy"[:32],
            load_balancer_type="network",
            internal=True,
            subnets=list(args.subnet_ids),
            security_groups=[lb_sg.id],
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.log_bucket_name, enabled=True,
                                                          prefix=f"load-balancers/{args.name_prefix}-egress-proxy"),
            opts=child,
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-targets",
            port=PROXY_PORT,
            protocol="TCP",
            target_type="instance",
            vpc_id=args.vpc_id,
            deregistration_delay=60,
            health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port=str(PROXY_PORT), interval=10,
                                                           healthy_threshold=3, unhealthy_threshold=3),
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-listener",
            load_balancer_arn=self.load_balancer.arn,
            port=PROXY_PORT,
            protocol="TCP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            opts=pulumi.ResourceOptions(parent=self.load_balancer),
        )
        self.group = aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.min_size,
            max_size=args.max_size,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id, version="$Latest"),
            target_group_arns=[target_group.arn],
            health_check_type="ELB",
            health_check_grace_period=180,
            max_instance_lifetime=MAX_INSTANCE_LIFETIME_SECONDS,
            service_linked_role_arn=scaling_role.arn,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(min_healthy_percentage=50)),
            tags=[aws.autoscaling.GroupTagArgs(key="Name", value=f"{args.name_prefix}-egress-proxy",
                                               propagate_at_launch=True)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
        )
        aws.autoscaling.Policy(
            f"{name}-cpu-target",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                target_value=args.target_cpu_percent,
                predefined_metric_specification=aws.autoscaling.
                PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization")),
            opts=pulumi.ResourceOptions(parent=self.group),
        )
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=args.zone_name,
            comment="Private: the egress proxy, shared with the spoke VPCs by association",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=args.vpc_id)],
            # Spoke VPCs are associated by their own accounts (ZoneAssociation); do not undo them.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["vpcs"]),
        )
        aws.route53.Record(
            f"{name}-record",
            zone_id=self.zone.zone_id,
            name=args.zone_name,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=self.load_balancer.dns_name, zone_id=self.load_balancer.zone_id,
                                                 evaluate_target_health=True)],
            opts=pulumi.ResourceOptions(parent=self.zone),
        )
        self.zone_id = self.zone.zone_id
        self.endpoint = f"http://{args.zone_name}:{PROXY_PORT}"
        self.register_outputs({"endpoint": self.endpoint, "zoneId": self.zone_id,
                               "loadBalancerArn": self.load_balancer.arn})
