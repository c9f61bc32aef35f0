"""The words the synthetic catalogue is written with: per demo category, the kinds of products a general
store sells, what their titles say about them (features, sizes and counts), and brands, some of which sell
in several categories.

Breadth is the point. A model trained on a dozen product types per category learns the ids that go with
them, not the words; with a few hundred kinds, titles phrased many ways and fields often missing, the
words of a title are the evidence that carries over to a catalogue the model has never seen.
Entries are ``;``-separated so that a kind may contain commas.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryWords:
    kinds: tuple[str, ...]  # what the product is ("frying pan")
    features: tuple[str, ...]  # what a listing says about it ("non-stick")
    sizes: tuple[str, ...]  # sizes, capacities and counts written after the kind ("28cm", "pack of 2")
    brands: tuple[str, ...]  # brands that sell mostly here
    audiences: tuple[str, ...] = ()  # who it is for, written before the kind ("women's")


def _split(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(";") if w.strip())


def _words(kinds: str, features: str, sizes: str, brands: str, audiences: str = "") -> CategoryWords:
    return CategoryWords(_split(kinds), _split(features), _split(sizes), _split(brands), _split(audiences))


VOCABULARY: dict[str, CategoryWords] = {
    "electronics": _words(
        kinds="""smartphone; mobile phone; unlocked phone; tablet; android tablet; laptop; notebook; chromebook;
        gaming laptop; desktop pc; all-in-one pc; monitor; gaming monitor; curved monitor; smart tv; led tv;
        oled tv; projector; soundbar; home cinema system; bluetooth speaker; portable speaker; smart speaker;
        wireless earbuds; true wireless earphones; in-ear headphones; over-ear headphones; on-ear headphones;
        gaming headset; usb microphone; webcam; wireless mouse; gaming mouse; trackpad; mechanical keyboard;
        wireless keyboard; keyboard and mouse combo; usb-c charger; wall charger; car charger; wireless charger;
        charging pad; power bank; portable charger; charging cable; usb-c cable; lightning cable; hdmi cable;
        displayport cable; ethernet cable; usb hub; docking station; external hard drive; portable ssd;
        internal ssd; usb flash drive; memory card; microsd card; sd card; wifi router; mesh wifi system;
        wifi extender; network switch; powerline adapter; smartwatch; smart watch; e-reader; ebook reader;
        digital camera; mirrorless camera; dslr camera; camera lens; action camera; dash cam; drone;
        camera tripod; ring light; inkjet printer; laser printer; ink cartridge; toner cartridge; scanner;
        graphics card; processor; motherboard; ram memory; pc case; cpu cooler; games console;
        game controller; vr headset; smart plug; smart bulb; video doorbell; security camera; baby monitor;
        dab radio; turntable; record player; mp3 player; phone case; screen protector; laptop sleeve;
        laptop stand; phone holder; selfie stick; calculator; surge protector; extension lead;
        graphics tablet; stylus pen; tv wall mount; universal remote; hdmi switch; walkie talkies;
        rechargeable batteries; satnav; amplifier; av receiver; wireless presenter""",
        features="""noise cancelling; fast charging; long battery life; 4k uhd; full hd; hi-fi sound; water resistant;
        bluetooth 5.3; wifi 6; usb-c; dual sim; 5g; backlit keys; rgb lighting; wireless; dolby atmos;
        hdr10; 144hz; touchscreen; android; quad core; unlocked; refurbished; with remote; plug and play;
        ergonomic; low latency; voice control; alexa built-in; night vision; 1080p; optical zoom;
        image stabilisation; portable; compact; magnetic""",
        sizes="""32gb; 64gb; 128gb; 256gb; 512gb; 1tb; 2tb; 8gb ram; 16gb ram; 10000mah; 20000mah; 5000mah;
        20w; 65w; 100w; 24 inch; 27 inch; 32 inch; 55 inch; 65 inch; 13.3 inch; 15.6 inch; 1m; 2m; 3m;
        pack of 2; pack of 4; 2-pack""",
        brands="""Samsung; Apple; Sony; LG; Anker; Logitech; JBL; Bose; Lenovo; HP; Dell; Asus; Acer; Canon;
        Nikon; Panasonic; Philips; Xiaomi; Huawei; Google; Microsoft; SanDisk; Kingston; Seagate; TP-Link;
        Netgear; Belkin; Ugreen; Razer; Corsair; Epson; Brother; GoPro; DJI; Garmin; Fitbit; Amazon Basics;
        Sennheiser; Marshall; Roku""",
    ),
    "home_kitchen": _words(
        kinds="""frying pan; non-stick pan; saucepan; saucepan set; casserole dish; dutch oven; wok; stock pot;
        griddle pan; baking tray; roasting tin; cake tin; muffin tray; loaf tin; mixing bowl; chef's knife;
        knife set; paring knife; bread knife; knife block; cutting board; chopping board; kitchen scissors;
        vegetable peeler; cheese grater; colander; sieve; whisk; spatula; ladle; kitchen tongs; rolling pin;
        measuring cups; kitchen scale; electric kettle; kettle; toaster; 2-slice toaster; coffee maker;
        coffee machine; espresso machine; bean to cup coffee machine; coffee grinder; cafetiere;
        french press; milk frother; blender; smoothie maker; food processor; stand mixer; hand mixer; juicer;
        air fryer; slow cooker; pressure cooker; rice cooker; microwave; sandwich maker; waffle maker;
        dinner plates; dinner set; cereal bowls; mug set; coffee mug; wine glasses; tumblers; cutlery set;
        teapot; food storage containers; lunch box; water jug; ice cube tray; dish drainer; tea towels;
        oven gloves; apron; vacuum cleaner; cordless vacuum cleaner; robot vacuum; steam mop; mop and bucket;
        steam iron; ironing board; laundry basket; clothes airer; kitchen bin; pedal bin; duvet;
        duvet cover set; bed sheets; fitted sheet; pillow; pillowcases; mattress topper; mattress;
        throw blanket; cushion; cushion cover; curtains; blackout curtains; roller blind; bath towels;
        bath towel set; bath mat; shower curtain; rug; doormat; table lamp; floor lamp; lampshade;
        scented candle; candle holder; vase; photo frame; wall clock; wall mirror; storage boxes;
        storage basket; floating shelf; bookcase; coat hooks; clothes hangers; air purifier; dehumidifier;
        desk fan; tower fan; oil filled radiator; plant pot; spice rack; bread bin; salad spinner;
        garlic press; can opener; corkscrew; toilet brush; shower caddy; soap dispenser""",
        features="""non-stick; dishwasher safe; stainless steel; bpa free; ceramic; cast iron; easy to clean;
        induction compatible; heat resistant; oven safe; cordless; bagless; programmable; digital display;
        keep warm function; 1500w; 2000w; energy efficient; egyptian cotton; 100% cotton; microfibre;
        hypoallergenic; anti-allergy; memory foam; machine washable; thermal; glass; bamboo; wooden;
        soft close; space saving; stackable; leak proof; quiet; scandi style""",
        sizes="""20cm; 24cm; 28cm; 30cm; 1.5l; 1.7l; 5.5l; 6l; 30l; 50l; single; double; king size;
        super king; set of 2; set of 3; set of 4; set of 6; 12 piece; 16 piece; 24 piece; pack of 2;
        pack of 4; 50 x 80cm; 140 x 200cm""",
        brands="""Tefal; Le Creuset; Russell Hobbs; Breville; Kenwood; KitchenAid; Ninja; Dyson; Shark; Vax;
        Nespresso; De'Longhi; Morphy Richards; Swan; Salter; Joseph Joseph; Brabantia; Pyrex; Zwilling;
        Victorinox; Tower; Instant Pot; Cuisinart; Smeg; Dunelm; Silentnight; Dreams; Bosch; Philips;
        Samsung; Ikea; Amazon Basics; Lakeland; Lock & Lock""",
    ),
    "fashion": _words(
        kinds="""t-shirt; graphic tee; polo shirt; shirt; oxford shirt; linen shirt; flannel shirt; blouse;
        tank top; vest top; crop top; camisole; jumper; sweater; knitted jumper; cardigan; hoodie;
        zip hoodie; sweatshirt; fleece jacket; jacket; denim jacket; leather jacket; puffer jacket;
        padded coat; parka; raincoat; trench coat; wool coat; overcoat; blazer; suit; waistcoat; jeans;
        skinny jeans; straight leg jeans; mom jeans; bootcut jeans; chinos; trousers; wide leg trousers;
        cargo trousers; joggers; tracksuit bottoms; leggings; shorts; denim shorts; skirt; mini skirt;
        midi skirt; pleated skirt; maxi dress; midi dress; mini dress; summer dress; shirt dress;
        wrap dress; evening dress; party dress; jumpsuit; playsuit; pyjamas; pyjama set; nightie;
        dressing gown; bra; sports bra; briefs; knickers; boxer shorts; boxer briefs; socks; ankle socks;
        tights; swimsuit; bikini; swim shorts; trainers; sneakers; canvas shoes; boots; ankle boots;
        chelsea boots; leather boots; heels; court shoes; sandals; flip flops; loafers; ballet flats;
        brogues; slippers; handbag; tote bag; shoulder bag; crossbody bag; clutch bag; wallet; purse;
        belt; leather belt; scarf; beanie hat; baseball cap; bucket hat; sun hat; gloves; sunglasses;
        watch; necklace; pendant necklace; earrings; stud earrings; bracelet; ring; tie; cufflinks;
        hair scrunchies; school uniform; onesie; kimono; poncho""",
        features="""slim fit; regular fit; relaxed fit; oversized; high waisted; stretch; breathable; lightweight;
        machine washable; organic cotton; 100% cotton; merino wool; cashmere; linen; genuine leather;
        faux leather; vegan leather; waterproof; quilted; hooded; long sleeve; short sleeve; sleeveless;
        v-neck; crew neck; floral print; striped; checked; polka dot; ribbed; lace; sequin; casual;
        smart; sterling silver; gold plated; polarised""",
        sizes="""size xs; size s; size m; size l; size xl; size xxl; size 8; size 10; size 12; size 14; size 16;
        uk 5; uk 7; uk 9; eu 38; eu 40; eu 42; eu 44; w32 l32; w34 l30; one size; pack of 3; pack of 5;
        3-pack""",
        brands="""Levi's; Zara; H&M; Uniqlo; Gap; Mango; Tommy Hilfiger; Calvin Klein; Ralph Lauren; Lacoste;
        Hugo Boss; Superdry; Jack & Jones; Only; Vero Moda; Next; Boden; Barbour; The North Face; Clarks;
        Dr. Martens; Converse; Vans; Birkenstock; Ray-Ban; Fossil; Casio; Pandora; Michael Kors; Guess;
        Diesel; Joules; Seasalt; Marks & Spencer; Nike; Adidas; Puma""",
        audiences="women's; men's; ladies; mens; womens; girls'; boys'; kids'; unisex; baby",
    ),
    "beauty": _words(
        kinds="""mascara; eyeliner; liquid eyeliner; eyeshadow palette; eyebrow pencil; brow gel; lipstick;
        liquid lipstick; lip gloss; lip liner; lip balm; foundation; liquid foundation; concealer;
        setting powder; pressed powder; blusher; bronzer; highlighter; face primer; setting spray;
        bb cream; tinted moisturiser; makeup brush set; makeup sponge; makeup remover; nail polish;
        nail varnish; gel nail polish; nail file; false eyelashes; face serum; vitamin c serum;
        retinol serum; hyaluronic acid serum; niacinamide serum; face moisturiser; day cream; night cream;
        eye cream; facial cleanser; cleansing balm; micellar water; toner; face mask; sheet mask;
        clay mask; exfoliator; face scrub; sunscreen; sun cream; sun lotion; after sun; body lotion;
        body butter; body oil; body wash; shower gel; bubble bath; bath bomb; soap bar; hand wash;
        hand cream; deodorant; antiperspirant; perfume; eau de parfum; eau de toilette; aftershave;
        body mist; shampoo; conditioner; dry shampoo; hair mask; hair oil; hair serum; hairspray;
        hair gel; hair wax; hair dye; hair colour; hair dryer; hair straightener; curling wand;
        hair brush; detangling brush; razor; razor blades; electric shaver; beard trimmer; hair clippers;
        shaving foam; shaving gel; beard oil; toothpaste; electric toothbrush; toothbrush heads;
        mouthwash; dental floss; cotton pads; tweezers; self tan mousse; tanning lotion; bath salts;
        lash serum; skincare set; epilator""",
        features="""vitamin c; hyaluronic acid; niacinamide; retinol; paraben free; long lasting; waterproof;
        smudge proof; vegan; cruelty free; dermatologist tested; fragrance free; for sensitive skin;
        for dry skin; for oily skin; for damaged hair; for curly hair; anti-ageing; hydrating; mattifying;
        volumising; lengthening; spf 30; spf 50; broad spectrum; natural; organic; sulfate free;
        colour protect; oil free; non-comedogenic; 24h; matte; shimmer; nude; very black""",
        sizes="""30ml; 50ml; 75ml; 100ml; 150ml; 200ml; 250ml; 400ml; 500ml; 15ml; 10ml; 4g; 8g; 12g;
        pack of 2; pack of 3; pack of 6; twin pack; travel size""",
        brands="""L'Oreal Paris; Maybelline; Garnier; Nivea; Dove; Neutrogena; CeraVe; La Roche-Posay; Vichy;
        The Ordinary; Olay; Clinique; Estee Lauder; MAC; NYX; Rimmel; Max Factor; Revlon; Benefit;
        Charlotte Tilbury; Elizabeth Arden; Chanel; Dior; Yves Saint Laurent; Calvin Klein; Hugo Boss;
        Pantene; Head & Shoulders; Herbal Essences; TRESemme; Schwarzkopf; Aussie; Gillette; Braun;
        Philips; Remington; GHD; Oral-B; Colgate; Sensodyne; Palmolive; Simple; Bioderma; OPI; Essie;
        St. Tropez; Bondi Sands; Sol de Janeiro""",
        audiences="women's; men's; unisex; kids'",
    ),
    "sports_outdoors": _words(
        kinds="""yoga mat; exercise mat; yoga block; resistance bands; dumbbells; adjustable dumbbells;
        dumbbell set; kettlebell; barbell; weight plates; weight bench; pull up bar; skipping rope;
        jump rope; foam roller; gym gloves; weightlifting belt; exercise bike; spin bike; treadmill;
        rowing machine; cross trainer; running shoes; road running shoes; trail running shoes;
        football boots; astro turf trainers; running shorts; running tights; sports bra; compression top;
        cycling jersey; cycling shorts; running jacket; gym bag; football; basketball; volleyball;
        rugby ball; netball; tennis racket; tennis balls; badminton racket; shuttlecocks;
        table tennis bats; table tennis table; golf balls; golf clubs; golf club set; golf glove;
        golf trolley; cricket bat; cricket ball; hockey stick; boxing gloves; punch bag; tent; dome tent;
        pop up tent; 4-man tent; sleeping bag; sleeping mat; inflatable mattress; camping chair;
        camping table; camping stove; gas canister; head torch; camping lantern; cool box; hiking boots;
        walking boots; hiking backpack; rucksack; daypack; trekking poles; walking poles; sports bottle;
        water bottle; hydration pack; compass; binoculars; fishing rod; fishing reel; fishing tackle box;
        kayak; paddle board; life jacket; wetsuit; swimming goggles; swim goggles; swim cap; snorkel set;
        ski goggles; ski gloves; ski jacket; snowboard; bike; mountain bike; road bike; hybrid bike;
        electric bike; bike helmet; cycling helmet; bike lights; bike lock; bike pump; bike pedals;
        inner tube; bike saddle; skateboard; inline skates; climbing harness; climbing shoes; carabiner;
        running watch; heart rate monitor; protein shaker; camping mug; mess tin; hammock; bivvy bag;
        shin pads; goalkeeper gloves; trampoline; dartboard; snooker cue""",
        features="""lightweight; anti-slip; non-slip; weatherproof; waterproof; breathable; ergonomic grip;
        foldable; shock absorbing; uv protection; adjustable; quick dry; insulated; cushioned; reflective;
        thermal; windproof; carbon fibre; aluminium frame; 21 speed; shimano gears; disc brakes;
        moisture wicking; high visibility; padded; durable; pro; training; competition; official size;
        all-terrain; 3 season; 4 season; ultralight; gps""",
        sizes="""2 x 5kg; 2 x 10kg; 4kg; 8kg; 12kg; 20kg; 6mm; 10mm; 20l; 30l; 45l; 65l; 2 person;
        4 person; 6 person; size 3; size 4; size 5; 26 inch; 27.5 inch; 29 inch; 700c; 500ml; 750ml; 1l;
        pack of 3; pack of 4; pack of 12; uk 8; uk 10""",
        brands="""Nike; Adidas; Puma; Under Armour; Reebok; Asics; New Balance; Saucony; Brooks; Salomon;
        Merrell; Columbia; The North Face; Berghaus; Regatta; Karrimor; Osprey; Coleman; Vango; Outwell;
        Decathlon; Quechua; Wilson; Head; Babolat; Yonex; Slazenger; Mitre; Spalding; Callaway;
        TaylorMade; Titleist; Speedo; Arena; Zoggs; Garmin; Polar; Shimano; Giant; Trek; Specialized;
        Carrera; Boardman; Kryptonite; Lifeline; York Fitness; Everlast; Gymshark""",
        audiences="women's; men's; ladies; mens; kids'; junior; youth; unisex; adult",
    ),
    "toys_games": _words(
        kinds="""building blocks; building set; building bricks; construction set; board game; family board game;
        strategy game; party game; card game; trading cards; jigsaw puzzle; floor puzzle; 3d puzzle;
        chess set; dominoes; dice game; doll; fashion doll; baby doll; dolls house; dollhouse; soft toy;
        plush toy; cuddly toy; teddy bear; stuffed animal; action figure; figure playset; toy car;
        die-cast car; diecast model; toy truck; toy tractor; remote control car; rc car;
        remote control helicopter; rc monster truck; train set; wooden train set; car track; race track;
        play kitchen; toy kitchen; play food; play tent; tea set; toy tool set; doctor's kit;
        dress up costume; fancy dress; play dough; modelling clay; slime kit; crayons; art set; paint set;
        sticker set; science kit; stem kit; robot kit; coding robot; magic set; kite; water gun; water pistol;
        blaster; foam darts; bubble machine; yo-yo; spinning top; puzzle cube; marble run; shape sorter;
        stacking rings; rattle; teething toy; baby gym; activity centre; ride-on toy; balance bike;
        kids scooter; rocking horse; swing set; sand pit; bath toys; musical toy; toy piano; xylophone;
        kids walkie talkies; hand puppet; puppet theatre; fidget toy; pop it; slot car set; toy drone;
        toy kitchen set; marble game; memory game; snakes and ladders; bingo set; play mat;
        pretend play set; toy figure; collectible figure; kids craft kit""",
        features="""ages 3+; ages 6+; ages 8+; ages 0-12 months; educational; non-toxic; family fun;
        battery operated; rechargeable; collectible; develops motor skills; stem; montessori; interactive;
        with sounds; light up; wooden; eco-friendly; for boys and girls; 2-4 players; 2-6 players;
        travel edition; classic edition; deluxe edition; glow in the dark; pretend play; creative play""",
        sizes="""100 pieces; 500 pieces; 1000 pieces; 1500 pieces; 24 pieces; 48 pieces; 10 pack; 20 pack;
        set of 6; set of 12; 30cm; 45cm; 2.4ghz; 1:24 scale; 1:64 scale; 3x3""",
        brands="""LEGO; Mattel; Hasbro; Fisher-Price; Barbie; Hot Wheels; Matchbox; Nerf; Play-Doh; Monopoly;
        Ravensburger; Melissa & Doug; VTech; LeapFrog; Playmobil; Sylvanian Families; Jellycat; Ty;
        Squishmallows; Crayola; Schleich; Brio; Hape; Orchard Toys; Spin Master; Paw Patrol; Peppa Pig;
        Disney; Marvel; Pokemon; Funko; Little Tikes; Bandai; Tomy; Mega Bloks; Uno; Scrabble; Jenga;
        Rubik's; Meccano""",
        audiences="kids; children's; toddler; baby; boys'; girls'; family",
    ),
    "books": _words(
        kinds="""novel; paperback novel; hardback novel; crime novel; crime thriller; mystery novel; thriller;
        psychological thriller; romance novel; fantasy novel; science fiction novel; sci-fi novel;
        horror novel; historical novel; literary fiction; short story collection; poetry collection;
        biography; autobiography; memoir; cookbook; cook book; recipe book; baking book; travel guide;
        guidebook; phrasebook; road atlas; world atlas; dictionary; thesaurus; encyclopedia; textbook;
        study guide; revision guide; workbook; children's book; picture book; board book;
        bedtime story book; activity book; colouring book; sticker book; young adult novel; graphic novel;
        comic book; manga; self-help book; business book; history book; popular science book;
        philosophy book; psychology book; art book; photography book; gardening book; programming book;
        coding book; language learning book; exam guide; bible; prayer book; audiobook; box set;
        book series; anthology; classic novel; annual; puzzle book; crossword book; diet book;
        parenting book; true crime book; sports biography; joke book""",
        features="""paperback; hardback; hardcover; kindle edition; illustrated; bestseller; sunday times
        bestseller; first edition; signed copy; large print; annotated; revised edition; 2nd edition;
        3rd edition; new edition; unabridged; complete series; penguin classics; book 1; book 2; volume 1;
        ages 3-5; ages 9-12; for beginners""",
        sizes="""paperback; hardback; 320 pages; 480 pages; 128 pages; 64 pages; 5 books; 7 book box set;
        10 book set""",
        brands="""Penguin; Penguin Random House; HarperCollins; Macmillan; Hachette; Bloomsbury; Vintage;
        Faber & Faber; Puffin; Usborne; Ladybird; Scholastic; DK; Lonely Planet; Rough Guides;
        Oxford University Press; Cambridge University Press; Collins; Wiley; O'Reilly; Marvel; DC Comics;
        Viz Media; Disney""",
    ),
    "grocery": _words(
        kinds="""dark chocolate; milk chocolate; chocolate bar; chocolate box; biscuits; cookies; crackers;
        crisps; tortilla chips; popcorn; mixed nuts; almonds; cashew nuts; peanuts; trail mix; dried fruit;
        raisins; granola; muesli; porridge oats; rolled oats; breakfast cereal; corn flakes; cereal bars;
        protein bar; snack bars; rice cakes; pasta; spaghetti; penne; fusilli; lasagne sheets; egg noodles;
        rice noodles; basmati rice; long grain rice; jasmine rice; risotto rice; quinoa; couscous;
        plain flour; bread flour; caster sugar; brown sugar; honey; manuka honey; maple syrup; jam;
        marmalade; peanut butter; hazelnut spread; chocolate spread; olive oil; extra virgin olive oil;
        sunflower oil; coconut oil; balsamic vinegar; cider vinegar; soy sauce; ketchup; tomato ketchup;
        mayonnaise; mustard; pasta sauce; pesto; curry paste; hot sauce; bbq sauce; stock cubes; gravy;
        chopped tomatoes; passata; baked beans; chickpeas; red lentils; kidney beans; tuna chunks;
        sardines; soup; instant noodles; spice mix; black pepper; sea salt; mixed herbs; cinnamon;
        paprika; curry powder; tea bags; green tea; black tea; earl grey tea; herbal tea; peppermint tea;
        coffee beans; ground coffee; instant coffee; coffee pods; coffee capsules; hot chocolate;
        sparkling water; mineral water; spring water; orange juice; apple juice; lemonade; cola;
        energy drink; kombucha; oat milk; almond milk; coconut milk; gummy sweets; jelly sweets;
        chewy sweets; chewing gum; mints; marshmallows; jelly beans; lollipops; fudge; toffee;
        baking powder; vanilla extract; food colouring; sprinkles; custard powder; baby food; rice pudding;
        canned peaches; olives; pickles; sauerkraut""",
        features="""organic; gluten free; fair trade; sugar free; no added sugar; low fat; reduced salt;
        family pack; multipack; cold pressed; single origin; high protein; vegan; vegetarian; wholegrain;
        wholewheat; free from; keto; 70% cocoa; 85% cocoa; dark roast; medium roast; decaf; unsweetened;
        salted; roasted; lightly salted; sea salt; extra virgin; italian; british; belgian; swiss""",
        sizes="""100g; 150g; 200g; 250g; 400g; 500g; 750g; 1kg; 2kg; 5kg; 250ml; 330ml; 500ml; 750ml; 1l;
        1.5l; 2l; 6 x 330ml; 12 x 330ml; 6 x 1l; 24 x 500ml; 40 bags; 80 bags; 160 bags; 10 capsules;
        pack of 6; pack of 12; pack of 24; case of 12""",
        brands="""Nestle; Cadbury; Lindt; Ferrero; Mars; Haribo; Kellogg's; Quaker; Weetabix; Nature Valley;
        Barilla; De Cecco; Napolina; Uncle Ben's; Tilda; Heinz; Hellmann's; Colman's; Kikkoman; Sharwood's;
        Patak's; Schwartz; Oxo; Bisto; Twinings; PG Tips; Yorkshire Tea; Tetley; Clipper; Lavazza; Illy;
        Starbucks; Nescafe; Kenco; Taylors; Coca-Cola; Pepsi; Innocent; Tropicana; Red Bull; Alpro; Oatly;
        Nutella; Whole Earth; Sun-Pat; Filippo Berio; Bertolli; San Pellegrino; Evian; Volvic; Walkers;
        Pringles; McVitie's; KIND; Graze; Marks & Spencer; Waitrose; Amazon Basics""",
    ),
}

# Product kinds that honestly belong to several categories: they keep the task from being trivial.
SHARED_KINDS: dict[str, tuple[str, ...]] = {
    "gift set": ("beauty", "grocery", "toys_games", "home_kitchen"),
    "travel bag": ("fashion", "sports_outdoors", "electronics"),
    "water bottle": ("sports_outdoors", "home_kitchen"),
    "starter kit": ("beauty", "toys_games", "electronics", "sports_outdoors"),
    "bundle": tuple(VOCABULARY),
    "accessory kit": ("electronics", "fashion", "sports_outdoors"),
    "backpack": ("fashion", "sports_outdoors"),
    "advent calendar": ("beauty", "grocery", "toys_games"),
    "puzzle book": ("books", "toys_games"),
}

# Materials and qualities that listings of every category name: a word like "stainless steel" or "satin"
# is evidence of a watch, a pan or a kettlebell alike.
SHARED_FEATURES = _split("""stainless steel; cast iron; leather; cotton; wooden; plastic; glass; bamboo; satin; velvet;
    silicone; metal; recycled; waterproof; rechargeable; lightweight; heavy duty; premium quality; 2-in-1;
    3-in-1; gift boxed; portable; foldable; non-slip; soft; classic; limited edition; eco-friendly; large; mini""")
UNITS = ("g", "kg", "ml", "l", "cm", "mm", "oz", "inch")

ADJECTIVES = ("premium", "classic", "compact", "deluxe", "essential", "modern", "vintage", "eco", "pro", "ultra",
              "everyday", "smart", "handmade", "limited edition", "travel", "heavy duty", "new", "original",
              "professional", "mini", "large", "small", "luxury", "retro", "genuine", "best selling")
COLOURS = ("black", "white", "red", "blue", "green", "grey", "pink", "beige", "navy", "silver", "gold",
           "rose gold", "khaki", "burgundy", "cream", "multicolour", "purple", "yellow", "orange", "brown")

# Book titles have no product words: they are made of these, and named by an author.
BOOK_WORDS = _split("""night; garden; house; river; secret; silent; lost; last; little; winter; summer; island;
    shadow; light; girl; boy; city; king; queen; stars; sea; fire; stone; road; dark; wild; forest; moon;
    blood; glass; paper; bones; heart; kingdom; crown; storm; tide; hidden; midnight; golden; broken; habits;
    mind; money; life; world; history; story; art; way; power; time; dragon; witch; wizard; friend; cat;
    mouse; bear; detective; murder; rain; letters; promise; journey; summit; echo; empire; thousand; wolf""")
FIRST_NAMES = _split("""James; Sarah; John; Emma; David; Olivia; Michael; Sophie; Richard; Anna; Paul; Laura; Mark;
    Kate; Peter; Jane; Thomas; Helen; George; Alice; Robert; Maya; Daniel; Clare; Stephen; Agatha; Ian; Zadie""")
SURNAMES = _split("""Smith; Clarke; Harper; Moore; Walker; Green; Hughes; Wood; Turner; Hill; Ward; King; Baker;
    Price; Bennett; Murray; Fisher; Holmes; Lewis; Adams; Reid; Pearce; Rowling; Christie; Atwood; Ishiguro""")
PLACES = _split("""Italy; France; Spain; Japan; Greece; Portugal; Iceland; Scotland; Ireland; London; Paris; Rome;
    New York; Thailand; Vietnam; Mexico; Peru; Canada; Australia; New Zealand; Croatia; Morocco; Norway; Berlin""")
LANGUAGES = _split("""French; Spanish; German; Italian; Japanese; Mandarin; Portuguese; Greek; Dutch; Arabic; Korean;
    English""")
