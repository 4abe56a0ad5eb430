"""ECS on Fargate: the account's cluster, and a long-running service behind an internal NLB.

Decision (docs/workloads.md): the NLB terminates TLS with a certificate the bank's private CA issues through
ACM, under a policy that offers TLS 1.3 and TLS 1.2 with ECDHE-GCM suites only (FAPI), and forwards
plain HTTP to the tasks inside the VPC. ACM renews the certificate and holds its key; a task never sees a
private key, and each service does not carry its own TLS stack. The NLB is reached only through the account's
VPC endpoint service (PrivateLink): its security group admits nothing from the VPC, and PrivateLink traffic
is admitted by the endpoint service's allowed principals.

A service that must see its clients' certificates in its own TLS session (the IdP: RFC 8705 binds tokens to
them) gets a TCP pass-through listener instead (:class:`TcpPassthrough`) and terminates TLS in its tasks.

The service runs in the private subnets without public IPs, with ECS Exec off, a deployment circuit breaker
that rolls back, tasks spread over the AZs, and target-tracking autoscaling on CPU between its minimum and
maximum task count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .container_task import ContainerTask, ContainerTaskArgs

#: TLS 1.3, and TLS 1.2 with ECDHE key exchange and AES-GCM only: FAPI 1 Advanced's cipher suites.
NLB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
#: The port a service's NLB listens on (TLS).
TLS_PORT = 443


@dataclass(frozen=True)
class ServiceClusterArgs:
    """The account's ECS cluster."""

    #: Cluster name, e.g. "prod-workload-pis".
    cluster_name: str
    #: Fargate Spot as the default capacity (the sandbox); otherwise on-demand Fargate.
    spot: bool = False


class ServiceCluster(pulumi.ComponentResource):
    """Container Insights (enhanced observability) on; Fargate and Fargate Spot capacity providers."""

    cluster: aws.ecs.Cluster

    def __init__(self, name: str, args: ServiceClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:ServiceCluster", name, None, opts)
        self.cluster = aws.ecs.Cluster(
            name, name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            opts=pulumi.ResourceOptions(parent=self))
        aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT" if args.spot else "FARGATE", weight=1, base=0 if args.spot else 1)],
            opts=pulumi.ResourceOptions(parent=self.cluster),
        )
        self.arn = self.cluster.arn
        self.name = self.cluster.name
        self.register_outputs({"clusterArn": self.arn})


@dataclass(frozen=True)
class InternalTls:
    """The NLB's TLS listener."""

    #: The ACM certificate (issued by the bank's private CA) for the service's internal name.
    certificate_arn: pulumi.Input[str]
    #: The listener port third-party traffic arrives on through PrivateLink.
    port: int = TLS_PORT


@dataclass(frozen=True)
class TcpPassthrough:
    """A TCP listener that passes the client's TLS session through to the tasks, which terminate it themselves:
    for a server that must see the client certificate of the TLS session (RFC 8705 token binding at the IdP)."""

    #: The listener port PrivateLink traffic arrives on.
    port: int = 443


@dataclass(frozen=True)
class TargetHealth:
    """How the load balancer checks a task, when not plain HTTP on the traffic port."""

    #: The port the health endpoint listens on (e.g. Keycloak's management port 9000).
    port: int
    #: `HTTP` or `HTTPS` (an HTTPS check does not verify the certificate).
    protocol: str = "HTTP"
    #: The path that answers 200 when the task can take traffic.
    path: str = "/health"


@dataclass(frozen=True)
class FargateServiceArgs:
    """One service and its load balancer."""

    #: The task (image, size, settings, secrets, roles): see :class:`ContainerTaskArgs`.
    task: ContainerTaskArgs
    #: The account's cluster.
    cluster_arn: pulumi.Input[str]
    #: The cluster's name (autoscaling names the service by cluster and service).
    cluster_name: pulumi.Input[str]
    #: Short physical name of the service and its load balancer (32 characters at most), e.g. "prod-pis".
    service_name: str
    #: The account's VPC (the load balancer's security group and target group live there).
    vpc_id: pulumi.Input[str]
    #: Private subnets, one per AZ: the tasks and the NLB live there.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The tasks' security group, made by the caller before the data stores that admit it (its egress is
    #: everything the task connects to: see :func:`components.network_access.workload_security_group`).
    security_group_id: pulumi.Input[str]
    #: Task count between these; autoscaling tracks `target_cpu_percent` average CPU.
    min_tasks: int
    #: The most tasks autoscaling runs.
    max_tasks: int
    #: Average CPU (percent) autoscaling keeps the tasks at.
    target_cpu_percent: float = 60.0
    #: The internal NLB's TLS listener; None for a worker nobody calls (the ingestion consumer).
    tls: InternalTls | None = None
    #: The bucket the NLB writes access logs to (the log archive's access-logs bucket).
    access_logs_bucket: pulumi.Input[str] | None = None
    #: HTTP path of the load balancer's health check (the container's own health endpoint).
    health_path: str = "/health"
    #: The NLB cannot be deleted by accident (on in every stage, as the pack requires; off only to tear down).
    deletion_protection: bool = True
    #: Capacity: on-demand Fargate, or Fargate Spot (the sandbox).
    spot: bool = False
    #: A TCP pass-through listener instead of `tls` (the tasks terminate TLS themselves).
    passthrough: TcpPassthrough | None = None
    #: The health check on another port or protocol than HTTP on the traffic port (`health_path` is then unused).
    health: TargetHealth | None = None
    #: Ports the service's own tasks reach each other on (a cluster's membership and transport, e.g. JGroups
    #: 7800 and its failure detection 57800): open between the tasks' security group and itself, nothing else.
    peer_ports: Sequence[int] = ()
    #: Seconds ECS ignores failing load balancer health checks after a task starts.
    health_check_grace_seconds: int = 60
    #: What the service must wait for before its first tasks start (e.g. the secret its tasks read being filled).
    ready: Sequence[pulumi.Resource] = ()


class FargateService(pulumi.ComponentResource):
    task: ContainerTask
    service: aws.ecs.Service
    load_balancer: aws.lb.LoadBalancer | None

    def __init__(self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:FargateService", name, None, opts)
        if not 1 <= args.min_tasks <= args.max_tasks:
            raise ValueError(f"{name}: tasks must satisfy 1 <= min ({args.min_tasks}) <= max ({args.max_tasks})")
        if len(args.service_name) > 32:
            raise ValueError(f"{name}: service name {args.service_name!r} is longer than a load balancer's 32 characters")
        if args.tls is not None and args.passthrough is not None:
            raise ValueError(f"{name}: one listener: TLS termination or TCP pass-through, not both")
        listens = args.tls is not None or args.passthrough is not None
        if listens != (args.task.container.port is not None):
            raise ValueError(f"{name}: a container port needs a listener in front of it, and a listener a port")
        if listens and args.access_logs_bucket is None:
            raise ValueError(f"{name}: the load balancer needs an access-logs bucket")
        if args.health is not None and args.health.protocol not in ("HTTP", "HTTPS"):
            raise ValueError(f"{name}: health check protocol {args.health.protocol!r} is not HTTP or HTTPS")
        child = pulumi.ResourceOptions(parent=self)
        self.task = ContainerTask(f"{name}-task", args.task, opts=child)

        self.load_balancer = None
        #: The NLB's security group (it admits nothing: PrivateLink traffic passes on the endpoint service's
        #: principals; a caller inside the VPC, e.g. the sandbox's IdP or an HTTP API's VPC link, is admitted by a rule
        #: its owner adds here).
        self.load_balancer_security_group_id: pulumi.Output[str] | None = None
        load_balancers: list[aws.ecs.ServiceLoadBalancerArgs] = []
        listener: aws.lb.Listener | None = None
        port = args.task.container.port
        for peer in sorted(set(args.peer_ports)):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-peers-in-{peer}", security_group_id=args.security_group_id, ip_protocol="tcp",
                from_port=peer, to_port=peer, referenced_security_group_id=args.security_group_id,
                description="from the service's own tasks (cluster)", opts=child)
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-peers-out-{peer}", security_group_id=args.security_group_id, ip_protocol="tcp",
                from_port=peer, to_port=peer, referenced_security_group_id=args.security_group_id,
                description="to the service's own tasks (cluster)", opts=child)
        if listens and port is not None:
            health_port = args.health.port if args.health is not None else port
            lb_sg = aws.ec2.SecurityGroup(
                f"{name}-nlb", vpc_id=args.vpc_id, tags={"Name": f"{name}-nlb"},
                description=f"{args.service_name} NLB: reached through PrivateLink only, forwards to the tasks",
                opts=child)
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-nlb-to-tasks", security_group_id=lb_sg.id, ip_protocol="tcp", from_port=port, to_port=port,
                referenced_security_group_id=args.security_group_id, description="to the tasks (and health checks)",
                opts=pulumi.ResourceOptions(parent=lb_sg))
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-tasks-from-nlb", security_group_id=args.security_group_id, ip_protocol="tcp", from_port=port,
                to_port=port, referenced_security_group_id=lb_sg.id, description="the NLB only",
                opts=pulumi.ResourceOptions(parent=lb_sg))
            if health_port != port:
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-nlb-to-health", security_group_id=lb_sg.id, ip_protocol="tcp", from_port=health_port,
                    to_port=health_port, referenced_security_group_id=args.security_group_id,
                    description="health checks of the tasks", opts=pulumi.ResourceOptions(parent=lb_sg))
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-health-from-nlb", security_group_id=args.security_group_id, ip_protocol="tcp",
                    from_port=health_port, to_port=health_port, referenced_security_group_id=lb_sg.id,
                    description="the NLB's health checks only", opts=pulumi.ResourceOptions(parent=lb_sg))
            self.load_balancer = aws.lb.LoadBalancer(
                f"{name}-nlb",
                name=args.service_name,
                load_balancer_type="network",
                internal=True,
                subnets=list(args.subnet_ids),
                security_groups=[lb_sg.id],
                # PrivateLink traffic is admitted by the endpoint service (allowed principals), not by CIDRs.
                enforce_security_group_inbound_rules_on_private_link_traffic="off",
                enable_cross_zone_load_balancing=True,
                enable_deletion_protection=args.deletion_protection,
                access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket or "", enabled=True,
                                                              prefix=f"load-balancers/{args.service_name}"),
                opts=child,
            )
            target_group = aws.lb.TargetGroup(
                f"{name}-targets",
                port=port,
                protocol="TCP",
                target_type="ip",
                vpc_id=args.vpc_id,
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    protocol="HTTP", path=args.health_path, port="traffic-port", matcher="200", interval=10,
                    healthy_threshold=3, unhealthy_threshold=3) if args.health is None else
                aws.lb.TargetGroupHealthCheckArgs(
                    protocol=args.health.protocol, path=args.health.path, port=str(args.health.port), matcher="200",
                    interval=10, healthy_threshold=3, unhealthy_threshold=3),
                opts=child,
            )
            forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)]
            if args.tls is not None:
                listener = aws.lb.Listener(
                    f"{name}-tls",
                    load_balancer_arn=self.load_balancer.arn,
                    port=args.tls.port,
                    protocol="TLS",
                    certificate_arn=args.tls.certificate_arn,
                    ssl_policy=NLB_TLS_POLICY,
                    default_actions=forward,
                    opts=pulumi.ResourceOptions(parent=self.load_balancer),
                )
            else:
                assert args.passthrough is not None
                # No TLS here: the client's TLS session (and its certificate) reaches the task.
                listener = aws.lb.Listener(
                    f"{name}-tcp", load_balancer_arn=self.load_balancer.arn, port=args.passthrough.port,
                    protocol="TCP", default_actions=forward, opts=pulumi.ResourceOptions(parent=self.load_balancer))
            load_balancers.append(aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group.arn, container_name=ContainerTask.CONTAINER, container_port=port))
            self.load_balancer_security_group_id = lb_sg.id

        self.service = aws.ecs.Service(
            f"{name}-service",
            name=args.service_name,
            cluster=args.cluster_arn,
            task_definition=self.task.task_definition_arn,
            desired_count=args.min_tasks,
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider="FARGATE_SPOT" if args.spot else "FARGATE", weight=1)],
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids), security_groups=[args.security_group_id], assign_public_ip=False),
            load_balancers=load_balancers,
            health_check_grace_period_seconds=args.health_check_grace_seconds if load_balancers else None,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            availability_zone_rebalancing="ENABLED",
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            # Autoscaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"],
                                        depends_on=[*([listener] if listener is not None else []), *args.ready]),
        )
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", self.service.name),
            min_capacity=args.min_tasks,
            max_capacity=args.max_tasks,
            opts=pulumi.ResourceOptions(parent=self.service),
        )
        aws.appautoscaling.Policy(
            f"{name}-cpu-target",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=args.target_cpu_percent,
                predefined_metric_specification=aws.appautoscaling.
                PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"),
                scale_in_cooldown=300, scale_out_cooldown=60),
            opts=pulumi.ResourceOptions(parent=target),
        )
        self.security_group_id = args.security_group_id
        self.load_balancer_arn = self.load_balancer.arn if self.load_balancer else None
        #: The TLS listener (an HTTP API's private integration names it) and the NLB's DNS name and zone (an alias).
        self.listener_arn = listener.arn if listener is not None else None
        self.load_balancer_dns_name = self.load_balancer.dns_name if self.load_balancer else None
        self.load_balancer_zone_id = self.load_balancer.zone_id if self.load_balancer else None
        self.register_outputs({"serviceArn": self.service.id, "securityGroupId": self.security_group_id,
                               "loadBalancerArn": self.load_balancer_arn})
