import { z } from 'zod';
import { createRandom, seedFromText } from '../random.js';
import type { FaultShape, SimulatorDefinition } from '../simulator.js';
import { type BambooCompany, createBambooCompany } from './company.js';
import { type BambooControls, createBambooControls } from './controls.js';
import { handleBambooControl } from './controls-http.js';
import { type BambooRuntime, handleBambooRequest, isBambooPath } from './routes.js';

export type { BambooCompany } from './company.js';
export type { BambooControls } from './controls.js';

/** The simulated BambooHR company: what the connect page needs, its data and its controls. */
export interface SandboxBambooHR {
  companyDomain: string;
  /** HTTP Basic user name of every request (any password). */
  apiKey: string;
  /** Replaces `https://api.bamboohr.com/api/gateway.php`: `{apiBaseUrl}/{companyDomain}/v1/...`. */
  apiBaseUrl: string;
  /** The company's data in wire shape, live (after controls). */
  truth: BambooCompany;
  controls: BambooControls;
}

/** What the BambooHR simulator adds to the Sandbox: the company, when started (`--provider bamboohr|all`). */
export interface BambooSurface {
  bamboohr?: SandboxBambooHR;
}

/** What to paste into the connect page for the BambooHR company. */
export interface BambooFacts {
  companyDomain: string;
  apiKey: string;
  apiBaseUrl: string;
  caCertPath: string;
  employees: number;
}

/** Its own startSandbox options (flat, beside the sandbox's; docs/sandbox.md, "BambooHR"). */
const bambooSimulatorOptions = {
  /** The BambooHR company's domain (the `{companyDomain}` of its API URLs). */
  bambooCompanyDomain: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,40}$/)
    .default('acme'),
  /**
   * BambooHR rate limiting per API key: requests per window, and the status of a refused request
   * (429 since BambooHR's change of 2026-09-16, 503 before; docs/bamboohr.md, "Rate limiting").
   */
  bambooRequestLimit: z.number().int().min(1).default(200),
  bambooWindowSeconds: z.number().int().min(1).default(10),
  bambooRateLimitStatus: z.union([z.literal(429), z.literal(503)]).default(429),
};

/** BambooHR's errors: the reason in a header, no body (docs/bamboohr.md, "Errors" and "Rate limiting"). */
const bambooFaultShape: FaultShape = {
  throttle: (retryAfter) => ({
    status: 429,
    headers: { 'retry-after': retryAfter, 'x-bamboohr-error-message': 'Too many requests' },
    body: '',
  }),
  serverError: (status, message) => ({
    status,
    headers: { 'x-bamboohr-error-message': message },
    body: '',
  }),
};

/**
 * BambooHR: one company built from the sandbox's seeded organisation (the same people as the
 * default Dynamics tenant), served under `/api/gateway.php/{companyDomain}/v1/...` on the sandbox's
 * port, its controls under `/_sandbox/bamboohr/...` (docs/sandbox.md, "BambooHR").
 */
export const bambooSimulator: SimulatorDefinition<typeof bambooSimulatorOptions, BambooSurface, BambooFacts> =
  {
    id: 'bamboohr',
    alwaysStarted: false,
    options: bambooSimulatorOptions,
    cliFlags: [],
    routeFamilies: ['bamboohr'],
    faultShape: bambooFaultShape,

    async start({ options, baseUrl, organisation, now }) {
      const random = createRandom(seedFromText(`${options.seed}:bamboohr`));
      const company = createBambooCompany({
        organisation: organisation(),
        companyDomain: options.bambooCompanyDomain,
        apiKey: `${random.guid()}${random.guid()}`.replaceAll('-', '').slice(0, 40),
      });
      const rateLimit = {
        requestLimit: options.bambooRequestLimit,
        windowSeconds: options.bambooWindowSeconds,
        status: options.bambooRateLimitStatus,
      };
      const runtime: BambooRuntime = { company, rateLimit, window: { startedAt: 0, count: 0 } };
      const bamboohr: SandboxBambooHR = {
        companyDomain: company.companyDomain,
        get apiKey() {
          return company.apiKey;
        },
        apiBaseUrl: `${baseUrl}/api/gateway.php`,
        truth: company,
        controls: createBambooControls(company, rateLimit, now),
      };
      const findCompany = (domain: string) => (company.companyDomain === domain ? runtime : undefined);
      return {
        surface: { bamboohr },
        async route(request) {
          if (isBambooPath(request.segments)) {
            return { family: 'bamboohr', response: handleBambooRequest(request, findCompany, now) };
          }
          if (request.segments[0] === '_sandbox' && request.segments[1] === 'bamboohr') {
            return { family: 'controls', response: handleBambooControl(request, bamboohr.controls) };
          }
          return undefined;
        },
        close: async () => {},
      };
    },

    facts({ bamboohr }, sandbox) {
      if (!bamboohr) return undefined;
      return {
        companyDomain: bamboohr.companyDomain,
        apiKey: bamboohr.apiKey,
        apiBaseUrl: bamboohr.apiBaseUrl,
        caCertPath: sandbox.caCertPath,
        employees: bamboohr.truth.employees.size,
      };
    },

    formatFacts: (facts) =>
      [
        `BambooHR sandbox: ${facts.employees} employees`,
        `  Company domain  ${facts.companyDomain}`,
        `  API key         ${facts.apiKey}`,
        `  API base URL    ${facts.apiBaseUrl}  (instead of https://api.bamboohr.com/api/gateway.php)`,
        `  Trust this CA   NODE_EXTRA_CA_CERTS=${facts.caCertPath}`,
      ].join('\n'),

    demo({ bamboohr }, sandbox) {
      if (!bamboohr) return undefined;
      return {
        organizationName: 'Acme (BambooHR sandbox)',
        credentials: {
          companyDomain: bamboohr.companyDomain,
          apiKey: bamboohr.apiKey,
          apiRoot: bamboohr.apiBaseUrl,
        },
        changeSomePeople: `  curl -sk -X POST ${sandbox.baseUrl}/_sandbox/bamboohr/employees/update -H 'content-type: application/json' -d '{"count":5}'`,
      };
    },
  };
