/** The ceiling: a bare Fastify route on the same machine, answering a small JSON body. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/ceiling', async () => ({ status: 'ok', id: 'T00000001.46YfHXWtmk5ChbxXZ3Rx8A', amount: 1000 }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
