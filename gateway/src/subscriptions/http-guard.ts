import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Subscriptions are served by the gateway itself over graphql-ws, never planned by Apollo Gateway
 * (which cannot run them). A subscription POSTed over HTTP is answered with a pointer to the socket.
 */
export const subscriptionsOverHttpRefused: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === 'subscription') {
          throw new GraphQLError('Subscriptions are served over graphql-ws (protocol graphql-transport-ws) on this same /graphql path', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      },
    };
  },
};
