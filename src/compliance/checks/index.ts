import type { Check } from '../types.ts';
import { check012 } from './approved-flows.ts';
import { check028 } from './broad-allow.ts';
import { cniPresent } from './cni.ts';
import { check007, check008 } from './default-deny.ts';
import { check017 } from './dns-egress.ts';
import { check022 } from './exposed-services.ts';
import { flowLogging } from './flow-logging.ts';
import { flowMap } from './flow-map.ts';
import { guardrailChecks } from './guardrails.ts';
import { check023, check024 } from './host-network.ts';
import { peerSelectsNothing, policySelectsNothing, redundantRules } from './hygiene.ts';
import { check015 } from './ingress-ip-blocks.ts';
import { check011 } from './ingress-namespaces.ts';
import { check014 } from './ingress-ports.ts';
import { check021 } from './ingress-tls.ts';
import { check016 } from './internet-egress.ts';
import { isolationCheck } from './isolation.ts';
import { check018 } from './metadata-egress.ts';
import { check019 } from './namespace-egress.ts';
import { check004 } from './namespace-mixing.ts';
import { check013 } from './namespace-peers.ts';
import { newReachability } from './new-reachability.ts';
import { check009, check010 } from './open-ingress.ts';
import { check001 } from './phi-identification.ts';
import { check020 } from './tls-ports.ts';
import { transitiveExposure } from './transitive-exposure.ts';
import { unmodelledKinds } from './unmodelled-kinds.ts';

/**
 * Every implemented check of the catalogue, one file per check or small family named for what it
 * checks; the audit marks the rest not-assessable, visibly.
 */
export const CHECKS: readonly Check[] = [
  check001,
  cniPresent,
  unmodelledKinds,
  check004,
  isolationCheck('HIPAA-NP-005', 'ingress'),
  isolationCheck('HIPAA-NP-006', 'egress'),
  check007,
  check008,
  check009,
  check010,
  check011,
  check012,
  check013,
  check014,
  check015,
  check016,
  check017,
  check018,
  check019,
  check020,
  check021,
  check022,
  check023,
  check024,
  policySelectsNothing,
  peerSelectsNothing,
  redundantRules,
  check028,
  flowLogging,
  newReachability,
  transitiveExposure,
  flowMap,
  ...guardrailChecks,
];
