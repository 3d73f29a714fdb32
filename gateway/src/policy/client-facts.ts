import type { GatewayContext } from '../auth.js';

type Headers = Record<string, string | string[] | undefined>;

const firstForwarded = (headers: Headers): string => {
  const forwarded = headers['x-forwarded-for'];
  return process.env.GATEWAY_TRUST_PROXY === '1' && typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : '';
};

const deviceIn = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value.slice(0, 128) : undefined);

/**
 * What risk control knows about the client, for every transport. Its address: the socket's, or
 * behind a trusted edge proxy (GATEWAY_TRUST_PROXY=1) the first x-forwarded-for entry, which a client
 * reaching the gateway directly could forge. Its device: the x-device-id header, or over graphql-ws
 * (browsers cannot set headers on a WebSocket) connectionParams.deviceId.
 */
export function clientFacts(
  request: { headers: Headers; socket: { remoteAddress?: string } },
  connectionParams?: Readonly<Record<string, unknown>>,
): Pick<GatewayContext, 'clientIp' | 'deviceId'> {
  return {
    clientIp: firstForwarded(request.headers) || request.socket.remoteAddress,
    deviceId: deviceIn(request.headers['x-device-id']) ?? deviceIn(connectionParams?.deviceId),
  };
}
