// The shop's data: deterministic, so every worker and every mode renders the same bytes.
const words = [
  'amber',
  'cedar',
  'falcon',
  'harbor',
  'lantern',
  'meadow',
  'orbit',
  'quartz',
  'river',
  'summit',
];
const w = (i, n) => Array.from({ length: n }, (_, k) => words[(i * 3 + k * 7) % words.length]).join(' ');

export const pages = ['home', 'products', 'product', 'cart', 'account', 'about'];

export function pageContext(page, worker) {
  return {
    path: page === 'home' ? '/' : `/${page}`,
    worker,
    shop: {
      name: 'bcc shop',
      year: 2026,
      tagline: 'Templates compiled once, for every worker',
      description: 'A demo shop whose pages come from Nunjucks templates loaded through a bytecode cache.',
    },
    crumbs: [
      { href: '/', label: 'Home' },
      { href: `/${page}`, label: page },
    ],
    menu: pages.map((p) => ({ href: p === 'home' ? '/' : `/${p}`, label: p })),
    categories: ['books', 'tools', 'games'].map((name, i) => ({ name, slug: name, count: 4 + i })),
    promos: [
      { title: 'Free shipping', text: 'On orders over $100 <this week>.' },
      { title: 'Gift cards', text: 'Give the gift of choice & more.' },
    ],
    footer: [1, 2, 3].map((c) => ({
      title: w(c, 1),
      links: Array.from({ length: 3 }, (_, i) => ({ href: `/f/${c}/${i}`, label: w(c + i, 2) })),
    })),
    user: {
      name: 'ada lovelace',
      email: 'ada@example.test',
      admin: true,
      preferences: { newsletter: true, dark_mode: false, order_updates: true },
    },
    products: Array.from({ length: 18 }, (_, i) => ({
      sku: `SKU-${100 + i}`,
      name: w(i, 2),
      description: `${w(i + 2, 12)} <em>handmade</em> & tested`,
      price: 1299 + i * 350,
      stock: i % 5,
      rating: (i % 5) + 1,
      category: ['books', 'tools', 'games'][i % 3],
      tags: Array.from({ length: i % 3 }, (_, k) => words[(i + k) % words.length]),
      specs: { weight_grams: 200 + i * 10, colour: words[i % words.length], warranty_years: 1 + (i % 3) },
    })),
    reviews: Array.from({ length: 4 }, (_, i) => ({
      stars: (i % 5) + 1,
      text: w(i, 10),
      author: w(i + 1, 2),
    })),
    posts: Array.from({ length: 5 }, (_, i) => ({
      title: w(i, 4),
      body: `<p>${w(i + 1, 40)}</p>`,
      author: w(i + 3, 2),
      date: `2026-11-${String(10 + i).padStart(2, '0')}`,
    })),
    cart: {
      items: Array.from({ length: 3 }, (_, i) => ({ name: w(i, 2), price: 1999 + i * 500, quantity: i + 1 })),
    },
    orders: Array.from({ length: 8 }, (_, i) => ({
      id: 7000 + i,
      date: `2026-10-${String(1 + i).padStart(2, '0')}`,
      status: ['paid', 'shipped', 'delivered'][i % 3],
      total: 2500 + i * 775,
    })),
    about: Array.from({ length: 3 }, (_, i) => w(i, 30)),
    team: Array.from({ length: 4 }, (_, i) => ({
      name: w(i, 2),
      role: ['Founder', 'Engineer', 'Designer', 'Support'][i],
    })),
  };
}
