"""Pulumi mocks that answer like the AWS provider would.

Ids and ARNs carry the account id and region of the provider that creates the resource, and the
outputs a real provider computes (arn, ids, dns names, endpoints, `tagsAll`) are filled in, so every
value that flows from one resource into another is a real string. Nothing here is random: the same
program renders to the same record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Placement:
    """Which account and region a provider deploys into, and the account role it serves."""

    role: str | None
    account_id: str
    region: str


@dataclass(frozen=True)
class Subject:
    """Everything the output rules need to know of one resource being created."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    placement: Placement

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.urn.encode()).hexdigest()

    @property
    def physical_name(self) -> str:
        """The name the provider would use: the given one, else Pulumi's auto-name (name + 7 hex)."""
        for key in NAME_KEYS.get(self.type, ("name",)):
            given = self.inputs.get(key)
            if isinstance(given, str) and given:
                return given
        return f"{self.name}-{self.digest[:7]}"

    def hex_id(self, length: int = 17) -> str:
        return self.digest[:length]

    @property
    def uuid(self) -> str:
        return str(uuid.UUID(self.digest[:32]))


#: Input keys that hold a resource's physical name, where it is not `name`.
NAME_KEYS: dict[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketV2:BucketV2": ("bucket",),
    "aws:accessanalyzer/analyzer:Analyzer": ("analyzerName",),
    "aws:ecs/taskDefinition:TaskDefinition": ("family",),
    "aws:rds/cluster:Cluster": ("clusterIdentifier",),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier",),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId",),
    "aws:opensearch/domain:Domain": ("domainName",),
    "aws:apigateway/domainName:DomainName": ("domainName",),
    "aws:apigateway/stage:Stage": ("stageName",),
    "aws:apigatewayv2/domainName:DomainName": ("domainName",),
    "aws:cloudwatch/eventRule:EventRule": ("name",),
    "aws:cfg/recorder:Recorder": ("name",),
    "aws:opensearchingest/pipeline:Pipeline": ("pipelineName",),
}

#: AWS id prefixes of resources whose id is not their name.
ID_PREFIXES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/vpcEndpointService:VpcEndpointService": "vpce-svc-",
    "aws:ec2/customerGateway:CustomerGateway": "cgw-",
    "aws:ec2/vpnConnection:VpnConnection": "vpn-",
    "aws:ec2/vpnGateway:VpnGateway": "vgw-",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw-",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach-",
    "aws:ec2transitgateway/routeTable:RouteTable": "tgw-rtb-",
    "aws:ec2/vpcSecurityGroupIngressRule:VpcSecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:route53/zone:Zone": "Z",
    "aws:apigateway/restApi:RestApi": "",
    "aws:apigatewayv2/api:Api": "",
    "aws:apigatewayv2/vpcLink:VpcLink": "",
    "aws:apigatewayv2/integration:Integration": "",
    "aws:apigatewayv2/route:Route": "",
    "aws:apigatewayv2/apiMapping:ApiMapping": "",
    "aws:wafv2/webAcl:WebAcl": "",
    "aws:guardduty/detector:Detector": "",
    "aws:directconnect/gateway:Gateway": "",
    "aws:directconnect/transitVirtualInterface:TransitVirtualInterface": "dxvif-",
    "aws:ec2/managedPrefixList:ManagedPrefixList": "pl-",
    "aws:route53/resolverEndpoint:ResolverEndpoint": "rslvr-",
    "aws:route53/resolverRule:ResolverRule": "rslvr-rr-",
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": "rslvr-rrassoc-",
    "aws:route53/zoneAssociation:ZoneAssociation": "Z",
}

#: ARN service names that differ from the Pulumi module name.
SERVICE_OF_MODULE = {
    "ec2transitgateway": "ec2", "vpc": "ec2", "ebs": "ec2", "cfg": "config", "lb": "elasticloadbalancing",
    "alb": "elasticloadbalancing", "accessanalyzer": "access-analyzer", "opensearch": "es",
    "cloudwatch": "logs", "ram": "ram", "wafv2": "wafv2", "directconnect": "directconnect",
}


def _kebab(type_name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", type_name).lower()


Outputs = Callable[[Subject, str, str], dict[str, Any]]
"""(subject, id, physical name) -> computed outputs."""


def _bucket(s: Subject, id_: str, name: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:s3:::{name}", "bucket": name,
            "bucketDomainName": f"{name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}.s3.{s.placement.region}.amazonaws.com",
            "hostedZoneId": "Z3GKZC51ZF0DB4", "region": s.placement.region}


def _kms_key(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"keyId": id_, "arn": f"arn:aws:kms:{p.region}:{p.account_id}:key/{id_}",
            "keyUsage": s.inputs.get("keyUsage", "ENCRYPT_DECRYPT"),
            "customerMasterKeySpec": s.inputs.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")}


def _arn_as(template: str) -> Outputs:
    def outputs(s: Subject, id_: str, name: str) -> dict[str, Any]:
        p = s.placement
        return {"arn": template.format(region=p.region, account=p.account_id, name=name, id=id_)}
    return outputs


def _vpc(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:ec2:{p.region}:{p.account_id}:vpc/{id_}",
            "defaultSecurityGroupId": f"sg-{s.hex_id()[::-1]}",
            "defaultRouteTableId": f"rtb-{s.hex_id()[::-1]}",
            "defaultNetworkAclId": f"acl-{s.hex_id()[::-1]}",
            "mainRouteTableId": f"rtb-{s.hex_id()[1:]}0", "ownerId": p.account_id}


def _lb(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    kind = "net" if s.inputs.get("loadBalancerType") == "network" else "app"
    arn = f"arn:aws:elasticloadbalancing:{p.region}:{p.account_id}:loadbalancer/{kind}/{name}/{s.hex_id(16)}"
    return {"arn": arn, "id": arn, "arnSuffix": arn.split(":loadbalancer/")[1],
            "dnsName": f"{name}-{s.hex_id(10)}.elb.{p.region}.amazonaws.com", "zoneId": "ZD4D7Y8KGAS4G"}


#: The policy AWS attaches to an endpoint created without one (and the provider then reports): full access.
DEFAULT_ENDPOINT_POLICY = ('{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}],'
                           '"Version":"2008-10-17"}')


def _vpc_endpoint(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    dns = f"{id_}-{s.hex_id(8)}.vpce-svc.{p.region}.vpce.amazonaws.com"
    out: dict[str, Any] = {"arn": f"arn:aws:ec2:{p.region}:{p.account_id}:vpc-endpoint/{id_}",
                           "dnsEntries": [{"dnsName": dns, "hostedZoneId": "Z7HUB22UULQXV"}],
                           "networkInterfaceIds": [f"eni-{s.hex_id()}"], "ownerId": p.account_id}
    if not s.inputs.get("policy") and s.inputs.get("vpcEndpointType", "Gateway") in ("Gateway", "Interface"):
        out["policy"] = DEFAULT_ENDPOINT_POLICY
    if s.inputs.get("vpcEndpointType") == "Gateway":  # a gateway endpoint's routes go to its service's prefix list
        out |= {"prefixListId": f"pl-{s.hex_id(8)}", "dnsEntries": [], "networkInterfaceIds": []}
    return out


def _endpoint_service(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:ec2:{p.region}:{p.account_id}:vpc-endpoint-service/{id_}",
            "serviceName": f"com.amazonaws.vpce.{p.region}.{id_}", "serviceType": "Interface"}


def _rest_api(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:apigateway:{p.region}::/restapis/{id_}", "rootResourceId": s.hex_id(10),
            "executionArn": f"arn:aws:execute-api:{p.region}:{p.account_id}:{id_}"}


def _stage_of(collection: str, api_input: str, invoked_at_root: bool) -> Outputs:
    """A stage of a REST API (`restapis`, invoked under its name) or an HTTP API (`apis`, `$default` at the root)."""
    def outputs(s: Subject, id_: str, name: str) -> dict[str, Any]:
        p = s.placement
        api = s.inputs.get(api_input, "api")
        return {"arn": f"arn:aws:apigateway:{p.region}::/{collection}/{api}/stages/{name}",
                "invokeUrl": f"https://{api}.execute-api.{p.region}.amazonaws.com/{'' if invoked_at_root else name}",
                "executionArn": f"arn:aws:execute-api:{p.region}:{p.account_id}:{api}/{name}"}
    return outputs


def _api_domain(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:apigateway:{p.region}::/domainnames/{name}",
            "regionalDomainName": f"d-{s.hex_id(10)}.execute-api.{p.region}.amazonaws.com",
            "regionalZoneId": "ZJ5UAJN8Y3Z2Q", "domainNameId": s.hex_id(10)}


def _http_api(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:apigateway:{p.region}::/apis/{id_}",
            "apiEndpoint": f"https://{id_}.execute-api.{p.region}.amazonaws.com",
            "executionArn": f"arn:aws:execute-api:{p.region}:{p.account_id}:{id_}"}


def _http_api_domain(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    configuration = s.inputs.get("domainNameConfiguration")
    return {"arn": f"arn:aws:apigateway:{p.region}::/domainnames/{name}",
            "apiMappingSelectionExpression": "$request.basepath",
            "domainNameConfiguration": {**(configuration if isinstance(configuration, Mapping) else {}),
                                        "targetDomainName": f"d-{s.hex_id(10)}.execute-api.{p.region}.amazonaws.com",
                                        "hostedZoneId": "ZJ5UAJN8Y3Z2Q"}}


def _zone(s: Subject, id_: str, name: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:route53:::hostedzone/{id_}", "zoneId": id_,
            "nameServers": [f"ns-{i}.awsdns-{i:02d}.org" for i in (101, 202, 303, 404)]}


def _rds_cluster(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    host = f"{name}.cluster-{s.hex_id(12)}.{p.region}.rds.amazonaws.com"
    return {"arn": f"arn:aws:rds:{p.region}:{p.account_id}:cluster:{name}", "endpoint": host,
            "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"), "port": 5432,
            "clusterResourceId": f"cluster-{s.hex_id(26).upper()}",
            "masterUserSecrets": [{"secretArn": f"arn:aws:secretsmanager:{p.region}:{p.account_id}:secret:rds!cluster-"
                                                f"{s.uuid}-AbCdEf",
                                   "kmsKeyId": s.inputs.get("masterUserSecretKmsKeyId", ""), "secretStatus": "active"}]
            if s.inputs.get("manageMasterUserPassword") else []}


def _replication_group(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:elasticache:{p.region}:{p.account_id}:replicationgroup:{name}",
            "primaryEndpointAddress": f"master.{name}.{s.hex_id(6)}.{p.region}.cache.amazonaws.com",
            "readerEndpointAddress": f"replica.{name}.{s.hex_id(6)}.{p.region}.cache.amazonaws.com",
            "port": 6379}


def _opensearch(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:es:{p.region}:{p.account_id}:domain/{name}",
            "endpoint": f"vpc-{name}-{s.hex_id(26)}.{p.region}.es.amazonaws.com", "domainId": f"{p.account_id}/{name}"}


def _queue(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    url = f"https://sqs.{p.region}.amazonaws.com/{p.account_id}/{name}"
    return {"arn": f"arn:aws:sqs:{p.region}:{p.account_id}:{name}", "url": url, "id": url}


def _table(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    arn = f"arn:aws:dynamodb:{p.region}:{p.account_id}:table/{name}"
    return {"arn": arn, "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000",
            "streamLabel": "2026-01-01T00:00:00.000"}


def _lambda(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    arn = f"arn:aws:lambda:{p.region}:{p.account_id}:function:{name}"
    return {"arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST",
            "invokeArn": f"arn:aws:apigateway:{p.region}:lambda:path/2015-03-31/functions/{arn}/invocations"}


def _cloudfront(s: Subject, id_: str, name: str) -> dict[str, Any]:
    dist_id = "E" + s.hex_id(13).upper()
    return {"id": dist_id, "arn": f"arn:aws:cloudfront::{s.placement.account_id}:distribution/{dist_id}",
            "domainName": f"d{s.hex_id(13)}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2"}


def _certificate(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    domain = s.inputs.get("domainName", name)
    return {"arn": f"arn:aws:acm:{p.region}:{p.account_id}:certificate/{s.uuid}",
            "domainValidationOptions": [{"domainName": domain, "resourceRecordName": f"_{s.hex_id(32)}.{domain}.",
                                         "resourceRecordType": "CNAME",
                                         "resourceRecordValue": f"_{s.hex_id(32)[::-1]}.acm-validations.aws."}]}


def _organization(s: Subject, id_: str, name: str) -> dict[str, Any]:
    account = s.placement.account_id
    root = f"r-{s.hex_id(4)}"
    return {"arn": f"arn:aws:organizations::{account}:organization/{id_}", "masterAccountId": account,
            "masterAccountArn": f"arn:aws:organizations::{account}:account/{id_}/{account}",
            "roots": [{"id": root, "name": "Root", "arn": f"arn:aws:organizations::{account}:root/{id_}/{root}",
                       "policyTypes": [{"type": t, "status": "ENABLED"} for t in s.inputs.get("enabledPolicyTypes", [])]}]}


def _member_account(s: Subject, id_: str, name: str) -> dict[str, Any]:
    return {"arn": f"arn:aws:organizations::{s.placement.account_id}:account/o-exampl3bank1/{id_}", "status": "ACTIVE"}


def _pipeline(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"pipelineArn": f"arn:aws:osis:{p.region}:{p.account_id}:pipeline/{name}",
            "ingestEndpointUrls": [f"{name}-{s.hex_id(26)}.{p.region}.osis.amazonaws.com"]}


def _service_linked_role(s: Subject, id_: str, name: str) -> dict[str, Any]:
    service = str(s.inputs.get("awsServiceName", "service.amazonaws.com"))
    role = f"AWSServiceRoleFor{service.split('.')[0].title()}"
    return {"arn": f"arn:aws:iam::{s.placement.account_id}:role/aws-service-role/{service}/{role}", "name": role,
            "path": f"/aws-service-role/{service}/"}


def _firewall(s: Subject, id_: str, name: str) -> dict[str, Any]:
    """One endpoint per mapped subnet, reported the way `firewall_statuses` is (sync state per AZ)."""
    p = s.placement
    mappings = [m for m in s.inputs.get("subnetMappings", []) if isinstance(m, Mapping)]
    states = [{"availabilityZone": f"{p.region}{'abcdef'[i % 6]}",
               "attachments": [{"subnetId": m.get("subnetId"), "endpointId": f"vpce-{s.digest[3 * i:3 * i + 17]}",
                                "status": "READY"}]} for i, m in enumerate(mappings)]
    return {"arn": f"arn:aws:network-firewall:{p.region}:{p.account_id}:firewall/{name}",
            "firewallStatuses": [{"syncStates": states, "transitGatewayAttachmentSyncStates": []}],
            "updateToken": s.hex_id(32)}


def _attachment_of(key: str) -> Outputs:
    """Resources whose AWS id is the attachment they act on (e.g. a TGW attachment accepter)."""
    def outputs(s: Subject, id_: str, name: str) -> dict[str, Any]:
        return {"id": str(s.inputs.get(key, id_))}
    return outputs


def _tgw_attachment_id(s: Subject, id_: str, name: str) -> dict[str, Any]:
    """Direct Connect gateway associations and VPN connections attach to a TGW implicitly."""
    p = s.placement
    out: dict[str, Any] = {"transitGatewayAttachmentId": f"tgw-attach-{s.hex_id()[::-1]}"}
    if s.type == "aws:directconnect/gatewayAssociation:GatewayAssociation":
        out |= {"dxGatewayAssociationId": s.uuid, "associatedGatewayType": "transitGateway",
                "associatedGatewayOwnerAccountId": p.account_id, "dxGatewayOwnerAccountId": p.account_id}
    else:
        out |= {"tunnel1Address": "198.18.0.1", "tunnel2Address": "198.18.0.5",
                "tunnel1InsideCidr": "169.254.10.0/30", "tunnel2InsideCidr": "169.254.11.0/30",
                "tunnel1BgpAsn": "64512", "tunnel2BgpAsn": "64512",
                "tunnel1PresharedKey": s.hex_id(32), "tunnel2PresharedKey": s.hex_id(32)[::-1],
                "customerGatewayConfiguration": "<vpn_connection/>",
                "arn": f"arn:aws:ec2:{p.region}:{p.account_id}:vpn-connection/{id_}"}
    return out


def _eip(s: Subject, id_: str, name: str) -> dict[str, Any]:
    octets = [int(s.digest[i:i + 2], 16) for i in (0, 2)]
    return {"allocationId": id_, "publicIp": f"18.130.{octets[0]}.{octets[1]}", "domain": "vpc",
            "arn": f"arn:aws:ec2:{s.placement.region}:{s.placement.account_id}:elastic-ip/{id_}"}


def _resolver_endpoint(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    addresses = [{**a, "ip": f"10.255.{i}.{10 + i}", "ipId": f"rni-{s.hex_id()[i:]}"}
                 for i, a in enumerate(a for a in s.inputs.get("ipAddresses", []) if isinstance(a, Mapping))]
    return {"arn": f"arn:aws:route53resolver:{p.region}:{p.account_id}:resolver-endpoint/{id_}",
            "hostVpcId": f"vpc-{s.hex_id()}", "ipAddresses": addresses}


def _ecr_repository(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    return {"arn": f"arn:aws:ecr:{p.region}:{p.account_id}:repository/{name}", "registryId": p.account_id,
            "repositoryUrl": f"{p.account_id}.dkr.ecr.{p.region}.amazonaws.com/{name}"}


def _built_image(s: Subject, id_: str, name: str) -> dict[str, Any]:
    """A docker-build image pushed under its first tag: `<tag>@sha256:<digest>`."""
    tags = [t for t in s.inputs.get("tags", []) if isinstance(t, str)]
    digest = f"sha256:{s.digest}"
    return {"digest": digest, "ref": f"{tags[0]}@{digest}" if tags else "", "contextHash": s.hex_id(32)}


def _random_password(s: Subject, id_: str, name: str) -> dict[str, Any]:
    return {"result": s.digest[:int(s.inputs.get("length", 32))], "bcryptHash": f"$2a$10${s.hex_id(53)}"}


def _msk_cluster(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    brokers = int(s.inputs.get("numberOfBrokerNodes", 3))
    hosts = [f"b-{i}.{name}.{s.hex_id(6)}.c{i}.kafka.{p.region}.amazonaws.com" for i in range(1, brokers + 1)]
    return {"arn": f"arn:aws:kafka:{p.region}:{p.account_id}:cluster/{name}/{s.uuid}-1",
            "bootstrapBrokersSaslIam": ",".join(f"{h}:9098" for h in hosts),
            "bootstrapBrokersVpcConnectivitySaslIam": ",".join(
                f"{h}:{14000 + i}" for i, h in enumerate(hosts, start=1)),
            "currentVersion": "K3AEGXETSR30VB", "clusterUuid": f"{s.uuid}-1"}


def _mq_broker(s: Subject, id_: str, name: str) -> dict[str, Any]:
    p = s.placement
    broker_id = f"b-{s.uuid}"
    return {"arn": f"arn:aws:mq:{p.region}:{p.account_id}:broker:{name}:{broker_id}", "id": broker_id,
            "instances": [{"consoleUrl": f"https://{broker_id}.mq.{p.region}.amazonaws.com",
                           "endpoints": [f"amqps://{broker_id}.mq.{p.region}.amazonaws.com:5671"],
                           "ipAddress": "10.0.0.10"}]}


TYPE_OUTPUTS: dict[str, Outputs] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketObjectv2:BucketObjectv2": lambda s, id_, name: {"versionId": s.hex_id(32), "etag": s.hex_id(32)},
    "aws:route53/keySigningKey:KeySigningKey": lambda s, id_, name: {
        "dsRecord": f"{int(s.hex_id(4), 16) % 65536} 13 2 {s.hex_id(64).upper()}", "keyTag": int(s.hex_id(4), 16) % 65536},
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _arn_as("arn:aws:kms:{region}:{account}:{name}"),
    "aws:iam/role:Role": _arn_as("arn:aws:iam::{account}:role/{name}"),
    "aws:iam/policy:Policy": _arn_as("arn:aws:iam::{account}:policy/{name}"),
    "aws:iam/user:User": _arn_as("arn:aws:iam::{account}:user/{name}"),
    "aws:iam/instanceProfile:InstanceProfile": _arn_as("arn:aws:iam::{account}:instance-profile/{name}"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        _arn_as("arn:aws:iam::{account}:oidc-provider/{name}"),
    "aws:accessanalyzer/analyzer:Analyzer": _arn_as("arn:aws:access-analyzer:{region}:{account}:analyzer/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": _arn_as("arn:aws:logs:{region}:{account}:log-group:{name}"),
    "aws:cloudwatch/logDestination:LogDestination": _arn_as("arn:aws:logs:{region}:{account}:destination:{name}"),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        _arn_as("arn:aws:firehose:{region}:{account}:deliverystream/{name}"),
    "aws:cloudwatch/eventBus:EventBus": _arn_as("arn:aws:events:{region}:{account}:event-bus/{name}"),
    "aws:cloudwatch/eventRule:EventRule": _arn_as("arn:aws:events:{region}:{account}:rule/{name}"),
    "aws:sns/topic:Topic": _arn_as("arn:aws:sns:{region}:{account}:{name}"),
    "aws:sqs/queue:Queue": _queue,
    "aws:dynamodb/table:Table": _table,
    "aws:lambda/function:Function": _lambda,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/vpcEndpointService:VpcEndpointService": _endpoint_service,
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup":
        _arn_as("arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/0123456789abcdef"),
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/stage:Stage": _stage_of("restapis", "restApi", invoked_at_root=False),
    "aws:apigateway/domainName:DomainName": _api_domain,
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigatewayv2/stage:Stage": _stage_of("apis", "apiId", invoked_at_root=True),
    "aws:apigatewayv2/domainName:DomainName": _http_api_domain,
    "aws:apigatewayv2/vpcLink:VpcLink": _arn_as("arn:aws:apigateway:{region}::/vpclinks/{id}"),
    "aws:route53/zone:Zone": _zone,
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:opensearch/domain:Domain": _opensearch,
    "aws:cloudfront/distribution:Distribution": _cloudfront,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:ecs/cluster:Cluster": _arn_as("arn:aws:ecs:{region}:{account}:cluster/{name}"),
    "aws:ecs/service:Service": _arn_as("arn:aws:ecs:{region}:{account}:service/{name}"),
    "aws:ecs/taskDefinition:TaskDefinition": _arn_as("arn:aws:ecs:{region}:{account}:task-definition/{name}:1"),
    "aws:ecr/repository:Repository": _ecr_repository,
    "docker-build:index:Image": _built_image,
    "random:index/randomPassword:RandomPassword": _random_password,
    "aws:msk/cluster:Cluster": _msk_cluster,
    "aws:msk/configuration:Configuration": lambda s, id_, name: {
        "arn": f"arn:aws:kafka:{s.placement.region}:{s.placement.account_id}:configuration/{name}/{s.uuid}",
        "latestRevision": 1},
    "aws:msk/vpcConnection:VpcConnection": lambda s, id_, name: {
        "arn": f"arn:aws:kafka:{s.placement.region}:{s.placement.account_id}:vpc-connection/{s.uuid}"},
    "aws:mq/broker:Broker": _mq_broker,
    "aws:elasticache/user:User": lambda s, id_, name: {
        "arn": f"arn:aws:elasticache:{s.placement.region}:{s.placement.account_id}:user:{s.inputs.get('userId', name)}"},
    "aws:elasticache/userGroup:UserGroup": lambda s, id_, name: {
        "arn": f"arn:aws:elasticache:{s.placement.region}:{s.placement.account_id}:usergroup:"
               f"{s.inputs.get('userGroupId', name)}"},
    "aws:lambda/eventSourceMapping:EventSourceMapping": lambda s, id_, name: {"uuid": s.uuid},
    "aws:secretsmanager/secretVersion:SecretVersion": lambda s, id_, name: {"versionId": s.uuid},
    "aws:secretsmanager/secret:Secret": _arn_as("arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"),
    "aws:wafv2/webAcl:WebAcl": lambda s, id_, name: {
        "arn": f"arn:aws:wafv2:{s.placement.region}:{s.placement.account_id}:"
               f"{'global' if s.inputs.get('scope') == 'CLOUDFRONT' else 'regional'}/webacl/{name}/{id_}"},
    "aws:networkfirewall/firewall:Firewall": _firewall,
    "aws:networkfirewall/firewallPolicy:FirewallPolicy":
        _arn_as("arn:aws:network-firewall:{region}:{account}:firewall-policy/{name}"),
    "aws:networkfirewall/ruleGroup:RuleGroup":
        _arn_as("arn:aws:network-firewall:{region}:{account}:stateful-rulegroup/{name}"),
    "aws:cloudtrail/trail:Trail": _arn_as("arn:aws:cloudtrail:{region}:{account}:trail/{name}"),
    "aws:organizations/organizationalUnit:OrganizationalUnit":
        _arn_as("arn:aws:organizations::{account}:ou/o-exampl3bank1/{id}"),
    "aws:organizations/policy:Policy": _arn_as("arn:aws:organizations::{account}:policy/o-exampl3bank1/{id}"),
    "aws:ram/resourceShare:ResourceShare": _arn_as("arn:aws:ram:{region}:{account}:resource-share/{id}"),
    "aws:organizations/organization:Organization": _organization,
    "aws:organizations/account:Account": _member_account,
    "aws:opensearchingest/pipeline:Pipeline": _pipeline,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _arn_as("arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
    "aws:securityhub/account:Account": _arn_as("arn:aws:securityhub:{region}:{account}:hub/default"),
    "aws:cfg/configurationAggregator:ConfigurationAggregator":
        _arn_as("arn:aws:config:{region}:{account}:config-aggregator/config-aggregator-{id}"),
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": _attachment_of("transitGatewayAttachmentId"),
    "aws:directconnect/hostedTransitVirtualInterfaceAcceptor:HostedTransitVirtualInterfaceAcceptor":
        _attachment_of("virtualInterfaceId"),
    "aws:directconnect/gatewayAssociation:GatewayAssociation": _tgw_attachment_id,
    "aws:ec2/vpnConnection:VpnConnection": _tgw_attachment_id,
    "aws:ec2/eip:Eip": _eip,
    "aws:route53/resolverEndpoint:ResolverEndpoint": _resolver_endpoint,
    "aws:route53/resolverRule:ResolverRule":
        _arn_as("arn:aws:route53resolver:{region}:{account}:resolver-rule/{id}"),
    "aws:autoscaling/group:Group": lambda s, id_, name: {
        "arn": f"arn:aws:autoscaling:{s.placement.region}:{s.placement.account_id}:autoScalingGroup:{s.uuid}:"
               f"autoScalingGroupName/{name}"},
    "aws:ec2/launchTemplate:LaunchTemplate": lambda s, id_, name: {"latestVersion": 1, "defaultVersion": 1,
                                                                   "arn": f"arn:aws:ec2:{s.placement.region}:"
                                                                          f"{s.placement.account_id}:launch-template/{id_}"},
}

#: Types whose id is a generated value rather than the physical name.
UUID_IDS = {"aws:kms/key:Key", "aws:ram/resourceShare:ResourceShare", "aws:wafv2/webAcl:WebAcl",
            "aws:guardduty/detector:Detector"}


def _digits(s: Subject, length: int) -> str:
    return str(int(s.digest, 16))[-length:].rjust(length, "1")


#: Ids with a shape of their own (AWS Organizations: o-, r-, ou-, p- and 12-digit account ids).
SHAPED_IDS: dict[str, Callable[[Subject], str]] = {
    "aws:organizations/organization:Organization": lambda s: f"o-{s.hex_id(10)}",
    "aws:organizations/organizationalUnit:OrganizationalUnit": lambda s: f"ou-{s.hex_id(4)}-{s.hex_id(12)[4:]}",
    "aws:organizations/policy:Policy": lambda s: f"p-{s.hex_id(8)}",
    "aws:organizations/account:Account": lambda s: _digits(s, 12),
    "aws:securityhub/account:Account": lambda s: s.placement.account_id,
    "aws:macie2/account:Account": lambda s: s.placement.account_id,
}


def resource_id(s: Subject, name: str) -> str:
    if s.type in SHAPED_IDS:
        return SHAPED_IDS[s.type](s)
    if s.type in UUID_IDS:
        return s.uuid if s.type != "aws:guardduty/detector:Detector" else s.hex_id(32)
    if s.type in ID_PREFIXES:
        prefix = ID_PREFIXES[s.type]
        return prefix + (s.hex_id(13).upper() if prefix == "Z" else s.hex_id(10 if not prefix else 17))
    return name


def generic_arn(s: Subject, id_: str) -> str:
    module = s.type.split(":")[1].split("/")[0]
    service = SERVICE_OF_MODULE.get(module, module)
    p = s.placement
    return f"arn:aws:{service}:{p.region}:{p.account_id}:{_kebab(s.type.split(':')[-1])}/{id_}"


def computed_state(s: Subject, default_tags: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The id and output state the AWS provider would return for `s`."""
    name = s.physical_name
    id_ = resource_id(s, name)
    state: dict[str, Any] = dict(s.inputs)
    state.setdefault("name", name)
    if "arn" not in s.inputs:  # an EventTarget's or TopicPolicy's `arn` names another resource: keep it
        state["arn"] = generic_arn(s, id_)
    state.update(TYPE_OUTPUTS.get(s.type, lambda *_: {})(s, id_, name))
    if "region" not in s.inputs:
        state["region"] = s.placement.region
    tags = s.inputs.get("tags")
    if default_tags or isinstance(tags, Mapping):
        state["tagsAll"] = {**default_tags, **(tags if isinstance(tags, Mapping) else {})}
    return str(state.pop("id", id_)), state


#: What KMS `GetPublicKey` answers for a signing key (base64 DER SubjectPublicKeyInfo, RSA 3072): a fixed example
#: key, so a render's record is the same every time.
EXAMPLE_RSA_PUBLIC_KEY = (
    "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA0bOo9+JRgLN5q4y63OqmhQNOvYSvkwevkcD8zdFNte4/+j6yCMUmilUw"
    "k6pPPdaFMtbPfkKJYcRVC0X5D8oUdXahKBQOq82ecmgCRm9No8SWgRaEYiuEnpRIgAMa0mHYqWXUJPUhNFbzaeXuSGIc3yiwrgeJ"
    "rLfihpmf6AdFPyR/2MSd6XbyDgcZtXi+tA1cYgHhGVzH6ECkI73D3AEAKSA+YkgPY9bBrjtRo8BcnT+23Ch6onAY8Pz4YScPVMpo"
    "eTg96I524fviz3dhC4PPaz30AgDv66giVh26aYwPyA8zSGlPYDNmk2JywkdhjTPCFx5gxtcG/FnmzdayiLdcRl/At27MljVRdeOi"
    "wSsbU/QhdXfS8oRTGJMtDpmt0HYWiwVExUyyevuOu+v4yXN+3Xneo4RZdkwym9D6FoAdABw8Ek9g3LPqBeDBZlHb7MXv0S8FYDAp"
    "+k3HlyROQadbdWC+Xfh/vYa4pSYG/yy6bYgKAUoMCaZmDsbRvsCG7oOxAgMBAAE="
)
#: What ACM Private CA answers for a CA's certificate: a fixed example CA certificate (PEM).
EXAMPLE_CA_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBSzCB8qADAgECAgEBMAoGCCqGSM49BAMCMCUxIzAhBgNVBAMMGkVYQU1QTEUg\n"
    "cHJldmlldyBwcml2YXRlIENBMB4XDTI2MDEwMTAwMDAwMFoXDTM1MTIzMDAwMDAw\n"
    "MFowJTEjMCEGA1UEAwwaRVhBTVBMRSBwcmV2aWV3IHByaXZhdGUgQ0EwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAAT2XaMbKdX5zmWA2YCBE/x7kkltkU64ilBRNs7O\n"
    "UF7v9cZTpGWRrnb+wfIhbpKyFQhM7xw/Xr5m98fdMjMjGO41oxMwETAPBgNVHRMB\n"
    "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIDofBIMr4yOkv+l6iy9oKWBbHzKz\n"
    "Q9mj9SuLDnX09Wl/AiEAu+q5UcOt0ldXvbmJpcAqxI8CGhKQMMggon56n+ukz1g=\n"
    "-----END CERTIFICATE-----\n"
)


class MockError(Exception):
    """The mocks cannot answer a call the program made; the message says which and why."""


class Recorder(Protocol):
    """What the mocks need from whoever keeps the record of a render."""

    def placement_of(self, provider_ref: str | None) -> Placement: ...
    def default_tags_of(self, provider_ref: str | None) -> Mapping[str, str]: ...
    def urn_of(self, args: pulumi.runtime.MockResourceArgs) -> str: ...
    def record(self, args: pulumi.runtime.MockResourceArgs, id_: str, state: dict[str, Any]) -> None: ...
    def stack_outputs(self, stack: str) -> dict[str, Any]: ...


class RealisticMocks(pulumi.runtime.Mocks):
    """Mocks for the AWS provider, reporting every resource to `recorder`."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        id_, state = self._answer(args)
        self.recorder.record(args, id_, state)
        return id_, state

    def _answer(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.resource_id or args.inputs.get("name"))
            return name, {"name": name, "outputs": self.recorder.stack_outputs(name), "secretOutputNames": []}
        if args.typ.startswith("pulumi:providers:"):
            return hashlib.sha256(args.name.encode()).hexdigest()[:36], dict(args.inputs)
        if not args.custom:  # a component: nothing physical, nothing computed
            return "", {}
        placement = self.recorder.placement_of(args.provider)
        if isinstance(args.inputs.get("region"), str):  # v7's per-resource region overrides the provider's
            placement = dataclasses.replace(placement, region=args.inputs["region"])
        subject = Subject(args.typ, args.name, self.recorder.urn_of(args), args.inputs, placement)
        return computed_state(subject, self.recorder.default_tags_of(args.provider))

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        """Data sources: (result, check failures); the engine iterates the failures, so never None."""
        p = self.recorder.placement_of(args.provider or None)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": p.account_id, "arn": f"arn:aws:sts::{p.account_id}:assumed-role/lz/preview",
                    "userId": "AROAEXAMPLE:preview", "id": p.account_id}, []
        if args.token in ("aws:index/getRegion:getRegion", "aws:index/region:getRegion"):
            return {"name": p.region, "region": p.region, "id": p.region,
                    "endpoint": f"ec2.{p.region}.amazonaws.com"}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abc"
            return {"names": [f"{p.region}{c}" for c in letters],
                    "zoneIds": [f"{p.region[:3]}{p.region.split('-')[-1]}-az{i}" for i in range(1, 4)],
                    "id": p.region}, []
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            registry = str(args.args.get("registryId") or p.account_id)
            return {"authorizationToken": "QVdTOnByZXZpZXc=", "userName": "AWS", "password": "preview",
                    "proxyEndpoint": f"https://{registry}.dkr.ecr.{p.region}.amazonaws.com",
                    "expiresAt": "2026-12-31T00:00:00Z", "id": p.region}, []
        if args.token == "aws:kms/getPublicKey:getPublicKey":
            return {"id": str(args.args.get("keyId")), "keyId": str(args.args.get("keyId")),
                    "publicKey": EXAMPLE_RSA_PUBLIC_KEY, "keyUsage": "SIGN_VERIFY", "keySpec": "RSA_3072",
                    "customerMasterKeySpec": "RSA_3072", "signingAlgorithms": ["RSASSA_PSS_SHA_256"],
                    "encryptionAlgorithms": []}, []
        if args.token == "aws:acmpca/getCertificateAuthority:getCertificateAuthority":
            return {"id": str(args.args.get("arn")), "arn": str(args.args.get("arn")), "status": "ACTIVE",
                    "type": "ROOT", "certificate": EXAMPLE_CA_CERTIFICATE, "certificateChain": ""}, []
        raise MockError(f"the offline preview cannot answer the data source {args.token!r}; "
                        "pass the value in through config instead")
