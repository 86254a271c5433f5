// `pnpm start`: the app on http://127.0.0.1:3000 (PORT to change it).
import { createApp } from './app.mjs';

const { app } = await createApp();
const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/ and /orders`));
