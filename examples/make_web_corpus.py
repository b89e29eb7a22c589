"""Build the offline demo corpus ``examples/web_corpus.jsonl``: web pages as a scraper sees them.

    python examples/make_web_corpus.py                # writes examples/web_corpus.jsonl
    python examples/make_web_corpus.py --out /tmp/corpus.jsonl

Each record is ``{"id", "url", "text", "source"}``; ``text`` holds one line per HTML block, joined
with "\\n". Most documents are an original article (recipes, tutorials, local news, a forum thread,
...) wrapped in the boilerplate real pages carry: navigation bars, breadcrumbs, cookie banners,
share buttons, "Related posts", bylines, tags, newsletter forms, footers, plus some in-line noise
("[edit]", "(Click here to subscribe)", "Continue reading...", "Advertisement"). About a fifth are
low-quality pages a cleaner should drop whole (keyword spam, a link directory, lorem ipsum, a login
wall, a 404 page, casino spam, generated gibberish, a bare product grid, a stub, a parked domain).
Two edge cases: a French article (non-ASCII) and a list-heavy checklist.

Python standard library only and deterministic: every document draws its boilerplate from its own
``random.Random`` seeded with the base seed and the document's key, ids follow the order in which
documents are defined below (so adding a document changes no other id or text), and the file order
is shuffled with ``random.Random(seed)``. All article text was written for this corpus; all sites,
people and domains are made up (``.example``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path

SEED = 0

# --------------------------------------------------------------------------------------------------
# Boilerplate pools
# --------------------------------------------------------------------------------------------------

SKIP_LINKS = ["Skip to main content", "Skip to content", "Jump to navigation", "Skip to main navigation"]

COOKIE_BANNERS = [
    ["We use cookies to improve your experience. Accept all / Manage settings"],
    ["This website uses cookies to ensure you get the best experience on our website. Learn more", "Got it!"],
    ["We and our partners use cookies to personalise content and ads, and to analyse our traffic.",
     "Accept | Reject | Customise"],
    ["By continuing to browse this site you agree to our use of cookies. Find out more", "OK"],
    ["Cookie settings", "We use essential cookies to make our site work and optional cookies to understand how you use it.",
     "Accept all cookies | Reject optional cookies"],
    ["This site uses cookies. Some of them are essential, others help us improve your experience. Accept / Decline"],
]

ACCOUNT_LINES = ["Log in | Register", "Sign in", "Log in / Sign up", "Subscribe | Sign in", "Search",
                 "Search this site", "Search ...", "Log in | Register | Search", "My account"]

SHARE_BLOCKS = [
    ["Share on Facebook | Tweet | Pin it | Email"],
    ["Share this:", "Facebook", "Twitter", "Pinterest", "Email"],
    ["Share", "Tweet", "Pin it", "Email"],
    ["Share on Facebook", "Share on Twitter", "Share via Email"],
    ["SHARE THIS POST: Facebook | X | WhatsApp | Copy link"],
    ["Like this article? Share it with a friend!", "Facebook Twitter Email"],
]

RELATED_HEADERS = ["Related posts", "You may also like", "Related Articles", "More from {section}",
                   "Popular posts", "Read next", "Recommended for you"]

NEWSLETTERS = [
    ["Subscribe to our newsletter", "Get the latest posts delivered straight to your inbox. No spam, ever.",
     "Enter your email address", "Subscribe"],
    ["Never miss a post! Sign up for our free weekly newsletter."],
    ["Join 12,000 readers who get our free weekly email.", "Email address", "Sign me up"],
    ["Newsletter", "Your email", "Subscribe", "You can unsubscribe at any time. Read our privacy policy."],
    ["Enjoyed this? Get new articles by email (Click here to subscribe)"],
]

COMMENT_BLOCKS = [
    ["{n} Comments", "Leave a Reply", "Your email address will not be published. Required fields are marked *",
     "Comment", "Name *", "Email *", "Website", "Save my name, email, and website in this browser for the next time I comment.",
     "Post Comment"],
    ["Leave a comment", "You must be logged in to post a comment."],
    ["Comments ({n})", "Sort by: Newest | Oldest | Most liked", "Load more comments"],
    ["{n} thoughts on \u201c{title}\u201d", "Reply", "Leave a Reply Cancel reply"],
]

PAGINATION = ["\u00ab Previous 1 2 3 Next \u00bb", "\u2190 Older posts | Newer posts \u2192",
              "Page 1 of 3 | Next page", "\u00ab Prev  1  2  3  4  Next \u00bb", "Previous post | Next post"]

BACK_TO_TOP = ["Back to top", "\u2191 Back to top", "Top ^", "Scroll to top"]

ADS = ["Advertisement", "ADVERTISEMENT", "Sponsored", "Story continues below advertisement",
       "- Advertisement -", "Advertisement - scroll to continue"]

READ_MORE = ["Read more: {title}", "READ MORE: {title}", "Related: {title}", "See also: {title}",
             "You might also like: {title}"]

INLINE_NOISE = [" (Click here to subscribe)", " Continue reading...", " Click here to read more.",
                " (Read more)", " [Read the full story]", " Continue reading \u2192"]

SHOP_NOISE = [" Read more", " (See full description)", " Click here for sizing details."]

WIKI_REF_MARKS = ["[1]", "[2]", "[3]", "[4]", "[citation needed]", "[5]", "[note 1]"]

POSTED_LINES = [
    "Posted by {author} on {date} | {n} comments",
    "By {author} | {date} | {n} Comments",
    "{date} by {author}",
    "Written by {author} \u00b7 {date} \u00b7 {minutes} min read",
    "Posted on {date} by {author} \u2014 Leave a comment",
    "Last updated {date} | {author}",
]

AUTHORS = ["Emma Clarke", "Daniel Ortiz", "Priya Shah", "Tom Becker", "Hannah Lowe", "Marcus Reid",
           "Sofia Lindgren", "James Okafor", "Claire Dubois", "Ben Hartley", "Aisha Karim", "Nina Petrova"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]

# Sites: name, domain, kind (the record's ``source``), navigation, and extra titles for "related" lists.
SITES = {
    "hearth": dict(
        name="Hearth & Garden", domain="hearthandgarden.example", kind="blog", tagline="Home cooking, small gardens, simple fixes",
        nav=["Home | Recipes | Garden | Home Projects | About | Contact"], owner="Hearth & Garden",
        extra=["10 Easy Herbs to Grow on a Windowsill", "Our Kitchen Renovation: Six Months Later",
               "How to Sharpen a Kitchen Knife", "Freezing Summer Berries the Right Way", "Raised Beds on a Budget",
               "The Best Tools for a First Toolbox"]),
    "pantry": dict(
        name="The Little Pantry", domain="littlepantry.example", kind="blog", tagline="Real food from a tiny kitchen",
        nav=["HOME | RECIPES | BAKING | PRESERVES | ABOUT ME | CONTACT", "Recipe Index"], owner="The Little Pantry",
        extra=["Easy Overnight Oats, Five Ways", "Rhubarb and Ginger Jam", "My Go-To Focaccia",
               "A Guide to Baking Flours", "Homemade Stock from Vegetable Scraps"]),
    "codenotes": dict(
        name="Code Notes", domain="codenotes.example", kind="blog", tagline="Short tutorials for working programmers",
        nav=["Home | Tutorials | Python | Git | Linux | About", "RSS"], owner="Code Notes",
        extra=["Understanding Python Virtual Environments", "A Gentle Introduction to Regular Expressions",
               "Rewriting Git History Safely", "Five Shell Tricks I Use Every Day", "Writing Your First Unit Test"]),
    "gazette": dict(
        name="Riverton Gazette", domain="rivertongazette.example", kind="news",
        nav=["Home | News | Sport | Business | Weather | Opinion | Contact"], owner="Riverton Gazette Media",
        extra=["Road closures planned for summer resurfacing work", "Farmers market returns to the town square",
               "New play area opens at Riverside Park", "Council tax to rise by 3 percent",
               "Local bakery celebrates 50 years in business", "Police appeal for witnesses after break-in"]),
    "coast": dict(
        name="Coast & Country News", domain="coastandcountry.example", kind="news",
        nav=["News | Local | Politics | Sport | Opinion | Obituaries | Jobs | Subscribe"], owner="Coast & Country Media",
        extra=["Harbour festival draws record crowds", "Bus timetable changes from Monday",
               "Coastal path reopens after landslip repairs", "Village hall wins heritage grant",
               "Primary school celebrates outstanding inspection"]),
    "wiki": dict(
        name="OpenKnowledge", domain="openknowledge.example", kind="wiki",
        nav=["Main page | Contents | Current events | Random article | About | Contact us | Donate"], owner="OpenKnowledge",
        extra=[]),
    "growers": dict(
        name="Growers' Corner Forum", domain="growerscorner.example", kind="forum",
        nav=["Board index | FAQ | Members | Search"], owner="Growers' Corner", style="phpbb",
        extra=["Best tomato varieties for a cold greenhouse?", "Slugs ate all my hostas again",
               "When to sow sweet peas", "Show us your allotment 2023"]),
    "devhelp": dict(
        name="DevHelp Community", domain="devhelp.example", kind="forum",
        nav=["Latest | Categories | Top | Users"], owner="DevHelp", style="discourse",
        extra=["Why does my async function return a Promise?", "Best way to deep clone an object?",
               "Sorting an array of dates in JavaScript", "Node fetch vs axios in 2023?"]),
    "fixit": dict(
        name="FixIt DIY Forum", domain="fixitforum.example", kind="forum",
        nav=["Forums | What's new | Members | Search forums"], owner="FixIt Forum", style="vbulletin",
        extra=["Bathroom extractor fan recommendations", "Sticking front door in winter",
               "Which sealant for a shower tray?", "Replacing a light switch - wiring question"]),
    "spoke": dict(
        name="Spoke & Chain", domain="spokeandchain.example", kind="forum",
        nav=["Forum Home | Road | Mountain | Maintenance | Marketplace"], owner="Spoke & Chain", style="vbulletin",
        extra=["Tubeless setup keeps losing air", "Disc brakes squealing after wash",
               "Best budget bike computer?", "How tight should my headset be?"]),
    "purr": dict(
        name="Purrfect Pals", domain="purrfectpals.example", kind="forum",
        nav=["Home | Forums | Adoption Stories | Health | Behaviour | Gallery"], owner="Purrfect Pals", style="phpbb",
        extra=["Cat suddenly scratching the sofa", "Best litter for multi-cat homes?",
               "Senior cat not eating much", "Show us your sleeping cats!"]),
    "gearlab": dict(
        name="GearLab Reviews", domain="gearlab.example", kind="review", tagline="Honest reviews of everyday tech",
        nav=["Reviews | Best Picks | Deals | How-To | Newsletter"], owner="GearLab Media",
        extra=["The Best Wireless Mice Under $50", "Review: A Budget 4K Monitor Worth Buying",
               "Do You Need a Standing Desk?", "Best USB-C Hubs for Laptops", "Review: Noise-Cancelling Earbuds on a Budget"]),
    "ironside": dict(
        name="Ironside Kitchen Supply", domain="ironsidekitchen.example", kind="shop",
        nav=["Shop | New Arrivals | Cookware | Bakeware | Knives | Outdoor | Sale"], owner="Ironside Kitchen Supply Ltd",
        extra=[]),
    "mathbits": dict(
        name="Math Bits", domain="mathbits.example", kind="edu", tagline="Bite-sized explanations of school and college maths",
        nav=["Home | Algebra | Probability | Calculus | Worksheets | About"], owner="Math Bits",
        extra=["What Is a Logarithm, Really?", "Percentages Without Tears", "The Pythagorean Theorem, Three Ways",
               "Solving Quadratics by Completing the Square", "An Introduction to Expected Value"]),
    "wander": dict(
        name="Wander Often", domain="wanderoften.example", kind="blog", tagline="Slow travel and long walks",
        nav=["Home | Destinations | Hiking | Travel Tips | Gear | About"], owner="Wander Often",
        extra=["A Week on the Coast Path", "How I Pack for Two Weeks in Carry-On Only",
               "Night Trains Worth Taking", "Cheap Eats in Old Town Markets", "My Favourite Lightweight Rain Jacket"]),
    "healthnotes": dict(
        name="Everyday Health Notes", domain="everydayhealthnotes.example", kind="health",
        nav=["Home | Conditions | Nutrition | Fitness | Sleep | Mental Health | Newsletter"], owner="Everyday Health Notes",
        extra=["What Counts as a Portion of Fruit?", "Simple Stretches for Desk Workers",
               "How Much Protein Do You Need?", "Managing Hay Fever Season", "Why Walking Is Underrated"]),
    "curious": dict(
        name="Curious Sky", domain="curioussky.example", kind="blog", tagline="Science explained, one question at a time",
        nav=["Home | Physics | Space | Earth | Biology | Ask a Question"], owner="Curious Sky",
        extra=["Why Do Stars Twinkle?", "How Rainbows Form", "What Makes Thunder So Loud?",
               "Where Does the Wind Come From?", "How Far Away Is the Horizon?"]),
    "readingchair": dict(
        name="The Reading Chair", domain="readingchair.example", kind="blog", tagline="Book reviews, old and new",
        nav=["Home | Reviews | Classics | Reading Lists | About"], owner="The Reading Chair",
        extra=["Ten Classics That Are Shorter Than You Think", "Review: Jane Eyre", "How I Read Fifty Books a Year",
               "Review: The Time Machine", "Winter Reading List"]),
    "pennywise": dict(
        name="Pennywise", domain="pennywise.example", kind="blog", tagline="Practical money habits",
        nav=["Home | Budgeting | Saving | Debt | Investing | Tools"], owner="Pennywise",
        extra=["The 50/30/20 Budget, Explained", "How to Pay Off Debt Faster", "Is a Cash Envelope System Worth It?",
               "Cutting Your Grocery Bill Without Eating Badly"]),
    "easymiles": dict(
        name="Easy Miles", domain="easymiles.example", kind="blog", tagline="Running for the rest of us",
        nav=["Home | Training Plans | Gear | Injuries | Races | Contact"], owner="Easy Miles",
        extra=["How to Choose Running Shoes", "Why Slow Runs Make You Faster", "Stretches After a Run",
               "Running in the Rain: A Survival Guide"]),
}


def L(block: str) -> list[str]:
    """Text block -> lines. Blank lines dropped; a leading backtick marks a code line kept verbatim."""
    out = []
    for raw in block.strip("\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        out.append(raw.strip()[1:] if line.startswith("`") else line)
    return out


# --------------------------------------------------------------------------------------------------
# Good documents (article bodies written for this corpus). "## " marks a heading line.
# --------------------------------------------------------------------------------------------------

GOOD: list[dict] = []


def article(key, site, title, crumbs, tags, body, **extra):
    GOOD.append(dict(key=key, site=site, title=title, crumbs=crumbs, tags=tags, body=L(body), **extra))


def thread(key, site, title, crumbs, posts):
    GOOD.append(dict(key=key, site=site, title=title, crumbs=crumbs, tags=[],
                     posts=[(user, L(text)) for user, text in posts]))


article("lentil-soup", "hearth", "Weeknight Red Lentil Soup with Lemon and Cumin", ["Recipes", "Soups"],
        ["soup", "lentils", "vegetarian", "budget meals"], """
Red lentils are the pantry staple I reach for when the fridge is nearly empty and nobody wants to go shopping. They cook in about twenty minutes, they need no soaking, and they collapse into a thick, velvety soup without any help from a blender.
## Ingredients
1 onion, finely chopped; 2 carrots, diced; 3 cloves of garlic; 2 teaspoons ground cumin; 1 teaspoon smoked paprika; 250 g red lentils, rinsed; 1.2 litres vegetable stock; 1 lemon; salt, pepper and olive oil.
## Method
Warm a generous splash of olive oil in a heavy pot over medium heat. Add the onion and carrot with a pinch of salt and let them soften for eight to ten minutes, stirring now and then, until the onion turns translucent and sweet.
Stir in the garlic, cumin and paprika and cook for one minute, just until the spices smell toasty. Tip in the lentils and the stock, bring everything to a boil, then lower the heat and simmer uncovered for about twenty minutes.
When the lentils have broken down, squeeze in the juice of half the lemon, taste, and adjust the salt. If you like a smoother texture, whisk hard for a minute; the lentils will do most of the work for you.
## Tips
The soup thickens as it stands, so loosen leftovers with a little water when reheating. A spoonful of plain yogurt and some chopped parsley on top make it feel like a proper meal, and it freezes well for up to three months.
""")

article("sourdough-starter", "pantry", "How I Keep a Sourdough Starter Alive on a Busy Schedule", ["Baking", "Bread"],
        ["sourdough", "bread", "baking basics"], """
When I first made a sourdough starter, I treated it like a fragile houseplant and fed it on a strict timetable. Three years later I know it is far tougher than that, and a few simple habits are all it needs.
## Keep it in the fridge
Unless you bake every day, there is no need to keep your starter on the counter. I store mine in a glass jar in the fridge and feed it once a week. The cold slows the yeast and bacteria down, so the starter stays healthy with much less attention.
## Feed by weight
I discard all but about 50 g of starter, then add 50 g of flour and 50 g of water. Measuring by weight instead of cups keeps the consistency the same every time, which makes it easier to notice when something is off.
## Wake it up before baking
The day before I bake, I take the jar out, give it two feedings about twelve hours apart, and wait for it to double in size. A starter that rises and falls predictably is ready to raise a loaf.
## Don't panic about the liquid
A grey layer of liquid on top simply means the starter is hungry. Pour it off or stir it in, then feed as usual. Pink or orange streaks are a different story: those are a sign of unwanted bacteria, and it is safer to throw it out and start again.
""")

article("quick-pickled-onions", "pantry", "Quick Pickled Red Onions in Fifteen Minutes", ["Preserves"],
        ["pickles", "quick recipes", "condiments"], """
If you have never made quick pickles, red onions are the place to start. They turn a bright pink in the jar, they take almost no effort, and they lift everything from tacos to grain bowls to a plain cheese sandwich.
Slice one large red onion as thinly as you can and pack the rings into a clean jar. In a small saucepan, warm 120 ml of cider vinegar with 120 ml of water, one tablespoon of sugar and a teaspoon of salt, stirring until both dissolve.
Pour the hot brine over the onions and press them down with a spoon so they are fully covered. Add a few peppercorns, a bay leaf or a sliced chilli if you want extra flavour. After fifteen minutes at room temperature they are ready to eat, though the colour deepens over the next few hours.
Stored in the fridge with the lid on, the onions keep for about two weeks. Use a clean fork each time you take some out so the brine stays fresh, and when the jar is empty, the leftover pink brine makes a sharp salad dressing.
""")

article("container-tomatoes", "hearth", "Growing Tomatoes in Containers: What Worked on My Balcony", ["Garden", "Vegetables"],
        ["tomatoes", "container gardening", "balcony"], """
Last spring I had nothing but a south-facing balcony and a stubborn wish to grow my own tomatoes. After one season of trial and error, here is what I would tell anyone starting out.
## Pick the right variety
Compact, determinate varieties and cherry tomatoes are much happier in pots than the tall beefsteak types. Look for words like patio or bush on the seed packet, and check the expected height before you buy.
## Use a big pot
A tomato plant needs a lot of root room. I used containers of at least 20 litres, with drainage holes in the bottom, and filled them with a peat-free potting mix blended with a few handfuls of compost.
## Water deeply and consistently
Pots dry out quickly in summer, and uneven watering is the main cause of split fruit and blossom end rot. During heat waves I watered every morning until water ran out of the bottom, and I added a layer of straw on top of the soil to slow evaporation.
## Feed once flowers appear
When the first trusses of flowers opened, I switched to a liquid tomato feed every week. Too much nitrogen early on gives you lush leaves and very little fruit, so I held off until then.
By August the three plants had produced far more cherry tomatoes than we could eat fresh. Not bad for a space barely two metres wide.
""")

article("home-composting", "wiki", "Home composting", [], ["Composting", "Organic gardening", "Waste management"], """
Home composting is the controlled breakdown of kitchen and garden waste into a dark, crumbly material that improves soil structure and fertility. It relies on bacteria, fungi and small invertebrates such as worms and woodlice, which digest organic matter when they have enough air and moisture.
## Materials
Compostable material is usually divided into two groups. Greens are moist and rich in nitrogen, such as vegetable peelings, coffee grounds and fresh grass clippings. Browns are dry and rich in carbon, such as fallen leaves, shredded cardboard and straw. A mix of roughly equal volumes of each tends to decompose well.
Meat, dairy and cooked food are generally left out of simple home heaps because they can attract rats and produce strong odours.
## Process
In a well-managed heap, microbial activity can raise the internal temperature to between 50 and 65 degrees Celsius within a few days. Turning the heap every week or two adds oxygen and speeds up decomposition.
A heap that is too wet becomes compacted and smells sour; adding browns and turning it usually fixes the problem. A heap that is too dry simply stops working until it is watered.
## Use
Finished compost is dark, smells earthy and no longer shows recognisable scraps. Depending on the method and the season, this takes from two months to a year. It is commonly spread as a mulch or mixed into the top layer of garden beds.
""")

thread("overwintering-dahlias", "growers", "Do I need to lift my dahlias before winter?", ["Flowers", "Bulbs and Tubers"], [
    ("marigold_meg", """
This is my first year growing dahlias and they were fantastic, but the first frost is forecast for next week. Do I need to dig up the tubers, or can I leave them in the ground? I'm in a fairly cold area and the soil stays wet all winter.
"""),
    ("OldPotterer", """
With cold, wet soil I would definitely lift them. Wait until the frost blackens the foliage, then cut the stems down to about 10 cm and dig the clumps out carefully with a fork, working from well outside the stem so you don't spear the tubers.
"""),
    ("greenhouse_gary", """
Agree with the above. After lifting, turn the clumps upside down for a few days somewhere dry so water drains out of the hollow stems. Then I pack mine in boxes of slightly damp compost and keep them in the garage, which stays just above freezing.
"""),
    ("marigold_meg", """
Thanks both! How often should I check on them over the winter?
"""),
    ("OldPotterer", """
Once a month is plenty. If any tubers have shrivelled, mist the compost lightly. If any have gone soft or mouldy, cut that part off or throw the tuber away so the rot doesn't spread.
In spring, pot them up in April somewhere frost-free and plant them out after the last frost. You'll get earlier flowers that way too.
"""),
])

article("python-csv", "codenotes", "Reading CSV Files in Python Without pandas", ["Tutorials", "Python"],
        ["python", "csv", "standard library"], """
pandas is great, but for a small script you often don't need it. Python's standard library ships with a csv module that handles quoting, commas inside fields and different delimiters for you.
## Reading rows as dictionaries
The most convenient tool is csv.DictReader, which uses the header row as keys. Here is a short script that adds up the amount column of an expenses file:
`import csv
`total = 0.0
`with open("expenses.csv", newline="", encoding="utf-8") as f:
`    for row in csv.DictReader(f):
`        total += float(row["amount"])
`print(f"Total: {total:.2f}")
Note the newline="" argument. The csv module does its own handling of line endings, and opening the file this way prevents blank rows from appearing on some platforms.
## Other delimiters
If your file uses semicolons or tabs, pass the delimiter argument, for example csv.DictReader(f, delimiter=";"). Data exported from a spreadsheet in a European locale often uses semicolons, because the comma is already taken as the decimal separator.
## Writing a file
Writing works the same way in reverse. Create a csv.DictWriter with a list of field names, call writeheader() once, and then writerow() for each dictionary. The module adds quotes around any value that contains the delimiter, so you never have to escape anything by hand.
Once your data grows to millions of rows, or you need grouping and joins, that is the moment to reach for pandas or a database. For everything else, the standard library is enough.
""")

article("git-bisect", "codenotes", "Finding the Commit That Broke Your Build with git bisect", ["Tutorials", "Git"],
        ["git", "debugging", "version control"], """
Sometimes a test that passed last month is failing today, and there are two hundred commits in between. Reading through all of them is slow. git bisect performs a binary search over your history instead, so you only have to check a handful of commits.
## Starting a bisect session
Begin by telling git which commit is bad and which one you know was good:
`git bisect start
`git bisect bad HEAD
`git bisect good v2.3.0
Git checks out a commit roughly halfway between the two. Build the project, run the failing test, and report the result with git bisect good or git bisect bad. Each answer halves the remaining range, so two hundred commits take about eight steps.
## Automating it
If you have a script that exits with status 0 when things work and a non-zero status when they don't, git can do the whole search by itself:
`git bisect run ./run_failing_test.sh
When git finds the culprit, it prints the commit hash and message. Type git bisect reset to return to the branch you started from.
## A few tips
Make sure the test is reliable before you start. A flaky test that fails at random will send bisect in the wrong direction. If a commit cannot be built at all, mark it with git bisect skip and git will choose a neighbouring one.
""")

thread("js-dedupe", "devhelp", "Remove duplicate objects from an array by id?", ["JavaScript"], [
    ("dev_ana", """
I have an array of objects coming back from an API and some of them appear twice with the same id. What's the cleanest way to keep only the first object for each id? I'm on a recent Node version so modern syntax is fine.
"""),
    ("kgrant", """
A Map keyed by id works well and keeps insertion order:
`const unique = [...new Map(items.map(item => [item.id, item])).values()];
One catch: with this approach the last duplicate wins, not the first, because later entries overwrite earlier ones in the Map.
"""),
    ("bytewise", """
If you need the first one to win, use a Set to track the ids you have already seen:
`const seen = new Set();
`const unique = items.filter(item => !seen.has(item.id) && seen.add(item.id));
Set.prototype.add returns the set itself, which is truthy, so the filter keeps an item the first time its id shows up and drops it afterwards. It's a bit clever, so leave a comment if your team isn't used to it.
"""),
    ("dev_ana", """
The Set version is exactly what I needed. Thanks both, marking this as solved.
"""),
])

article("mill-street-bike-lane", "gazette", "Council approves protected bike lane on Mill Street after heated debate", ["News", "Local"],
        ["transport", "cycling", "town council"], """
Riverton town council voted 5-2 on Tuesday night to build a protected bike lane along Mill Street, ending months of argument between cycling groups and some shop owners on the busy corridor.
The plan will replace a row of parking spaces on the east side of the street with a two-way cycle track, separated from traffic by a raised curb. Construction is expected to begin in early spring and take around ten weeks.
Supporters packed the council chamber, many of them parents who said their children were afraid to ride to the secondary school at the north end of the street. "Right now the only safe way to get there is in a car," said one father who spoke during the public comment period.
Several business owners argued that losing 34 parking spaces would hurt trade. In response, the council agreed to convert a little-used lot behind the post office into short-stay parking and to review the effect on local shops after one year.
Councillor Ruth Adeyemi, who voted against the proposal, said she supported better cycling routes but felt the town had not consulted widely enough. "We heard from the people who came tonight, but not from everyone who uses this street," she said.
The project will cost an estimated 1.1 million dollars, most of which will come from a regional transport grant.
""")

article("eastbrook-library", "coast", "Eastbrook library reopens with longer hours and a new makerspace", ["Local"],
        ["libraries", "Eastbrook", "community"], """
After eighteen months behind scaffolding, the Eastbrook public library reopened its doors on Saturday morning, and a queue had formed along the pavement well before the ribbon was cut.
The renovation replaced the leaking roof, added a lift to reach the upper floor and converted a former storage room into a makerspace with two 3D printers, a laser cutter and a set of sewing machines. Anyone with a library card can book the equipment in one-hour slots.
Opening hours will also change. The library will now stay open until 8 p.m. on weekdays, which head librarian Tom Whitfield said was the most common request in a survey of local residents. "People told us they couldn't get here before work or after work," he said. "Now they can."
The children's section has moved to the ground floor next to a small garden, and the popular Saturday story time will return next week.
The work cost 3.4 million dollars and was funded jointly by the county and a local heritage trust.
""")

article("robotics-team", "gazette", "Northfield High robotics team heads to national finals", ["News", "Schools"],
        ["education", "robotics", "Northfield"], """
A team of eleven students from Northfield High School will travel to the national robotics championship next month after winning their regional competition on Sunday.
The team's robot, nicknamed Biscuit, had to pick up foam cubes and stack them on platforms at different heights within a two-minute round. It was designed and built entirely after school over six weeks, on a budget raised from bake sales and a grant from a local engineering firm.
"We broke the arm three days before the competition," said team captain Priya Nair, 17. "We rebuilt it with a lighter design, and honestly it worked better than the original."
Faculty adviser Mark Lindqvist said the win was remarkable for a club that started only three years ago with four members and a borrowed laptop. The team is now raising money to cover travel costs and has set up a collection at the school office. The national finals take place over three days, with more than sixty teams expected to compete.
""")

article("budget-mechanical-keyboard", "gearlab", "Review: A Budget Mechanical Keyboard That Punches Above Its Price", ["Reviews", "Peripherals"],
        ["keyboards", "budget tech", "reviews"], """
I have been typing on the same membrane keyboard for six years, so I wanted to see whether a cheap mechanical board could justify the switch. I spent three weeks with a tenkeyless model that sells for around forty dollars, using it for writing, programming and a bit of gaming.
## Build and design
The case is plastic, but it feels solid and doesn't flex when I press down on the middle. The keycaps are thin ABS and will probably develop a shine within a year. The detachable USB-C cable is a welcome touch at this price.
## Typing feel
My unit came with linear red switches. They are light and smooth, with a slight scratchiness that faded after the first week. The stabilisers on the space bar rattle a little, which bothered me more than I expected when typing late at night.
## Software
There is no companion app, so lighting effects and macros are set with key combinations printed in the manual. It works, but I had to keep the manual open for the first few days.
## Verdict
For the price, this is a very good first mechanical keyboard. It won't satisfy enthusiasts, but anyone who wants a more responsive, more durable keyboard without spending a lot will be happy with it.
Score: 7.5 / 10
Pros: solid case, USB-C, smooth switches. Cons: thin keycaps, rattly space bar, no software.
""")

article("cast-iron-skillet", "ironside", "Pre-Seasoned Cast Iron Skillet, 26 cm", ["Cookware", "Frying Pans"], [], """
A heavy, pre-seasoned cast iron pan that moves from stovetop to oven to campfire. Cast iron holds heat well, so the surface stays hot when you add cold food, which gives steaks and potatoes a deep brown crust.
## Product details
Diameter: 26 cm. Weight: 2.4 kg. Suitable for gas, electric, induction and ceramic hobs, and for ovens up to 260 C. Seasoned with vegetable oil at the factory.
## Care
Rinse with hot water and a brush while the pan is still warm. Avoid soaking it or putting it in the dishwasher. Dry it on a low flame and rub in a few drops of oil before putting it away to keep the seasoning in good shape.
## Customer reviews
5 stars - Better than my old non-stick. The first few eggs stuck a little, but after a couple of weeks of frying bacon and potatoes the surface is almost slick. It's heavy, so keep that in mind if you have weak wrists.
4 stars - Good pan, rough finish. Heats evenly and cooks beautifully, but the cooking surface is rougher than the vintage pans I have used. I knocked off one star for that.
5 stars - I use it for cornbread in the oven every Sunday. It comes out with a crisp edge every time.
""", price="$34.99", rating="4.6 out of 5 stars (212 reviews)")

article("hanseatic-league", "wiki", "Hanseatic League", [], ["Hanseatic League", "Medieval economic history", "History of the Baltic Sea"], """
The Hanseatic League was a commercial and defensive network of merchant guilds and market towns in northern Europe. It grew out of agreements between German traders in the 12th and 13th centuries and dominated trade around the Baltic and North Seas for much of the late Middle Ages.
## Origins
Merchants travelling long distances faced pirates, tolls and unfamiliar laws. By banding together, traders from towns such as Hamburg, Bremen and Cologne could negotiate privileges from foreign rulers, share the cost of protection and settle disputes among themselves. The city of L\u00fcbeck, on the Baltic coast, became the league's informal capital.
## Trade
The league's ships carried furs, wax and timber from the east, fish from Scandinavia, and cloth and wine from the west. The towns maintained large trading posts, known as kontore, in foreign cities including London, Bruges, Bergen and Novgorod. These posts were largely self-governing communities with their own rules.
## Decline
From the 15th century onward the league gradually lost influence. Territorial states grew stronger and less willing to grant special privileges, Dutch and English merchants became serious competitors, and the main trade routes shifted toward the Atlantic. The last general assembly, known as a Hanseatic Diet, met in 1669.
## Legacy
Several German cities still use the title Hanseatic city today, and the letters HH on Hamburg vehicle number plates stand for Hansestadt Hamburg.
""")

article("fresnel-lens", "wiki", "Fresnel lens", [], ["Lenses", "Lighthouses", "French inventions"], """
A Fresnel lens is a type of lens that uses a series of concentric grooved rings instead of a single thick curved surface. It was developed for lighthouses by the French physicist Augustin-Jean Fresnel in the 1820s.
## Principle
A conventional lens bends light at its surfaces; most of the glass inside does little except add weight and absorb some of the light. Fresnel's idea was to divide the curved surface into narrow sections and move each section back toward the flat side, so the lens keeps nearly the same focusing power with far less material.
## Use in lighthouses
Before Fresnel lenses, lighthouses relied on mirrors or simple lenses that wasted much of the light from their lamps. The new lenses captured a much larger share of the light and concentrated it into a strong horizontal beam. Lights became visible from much greater distances, which made coastal navigation considerably safer.
Lighthouse lenses were classified by order, from the large first-order lenses used on major sea coasts to the small sixth-order lenses used in harbours and on rivers.
## Other applications
The same principle is used today in overhead projectors, traffic signals, car headlamps, solar concentrators and thin plastic magnifying sheets.
""")

article("sum-of-integers", "mathbits", "Why 1 + 2 + ... + n Equals n(n + 1)/2", ["Algebra", "Sequences and Series"],
        ["arithmetic series", "proof", "worked example"], """
There is a well-known story about a young Carl Friedrich Gauss being asked to add up the numbers from 1 to 100 and producing the answer almost at once. Whether or not the story is true, the trick behind it is worth knowing.
## The pairing argument
Write the sum forwards and backwards, one above the other:
S = 1 + 2 + 3 + ... + 100
S = 100 + 99 + 98 + ... + 1
Now add the two lines column by column. Every column adds up to 101: 1 + 100, 2 + 99, 3 + 98 and so on. There are 100 columns, so 2S = 100 x 101 = 10100, and S = 5050.
## The general formula
Nothing in that argument depends on the number 100. For any positive integer n, each of the n columns adds up to n + 1, so 2S = n(n + 1) and
S = n(n + 1) / 2
## Worked example
Suppose you stack cans in a triangle with 1 can in the top row, 2 in the next row, and so on down to 24 cans in the bottom row. How many cans are there in total? Using the formula with n = 24 gives 24 x 25 / 2 = 600 / 2 = 300 cans.
## Checking the formula
It is always a good idea to test a formula on small cases. For n = 4, the sum is 1 + 2 + 3 + 4 = 10, and the formula gives 4 x 5 / 2 = 10. The two agree.
""")

article("compound-interest", "mathbits", "Compound Interest Explained with a Worked Example", ["Algebra", "Financial Maths"],
        ["compound interest", "exponents", "worked example"], """
Compound interest means you earn interest not only on the money you put in, but also on the interest that money has already earned. Over long periods, this makes a surprisingly large difference.
## The formula
If you invest a principal P at an annual interest rate r, compounded n times per year, the amount after t years is
A = P(1 + r/n)^(nt)
Here r is written as a decimal, so 5% becomes 0.05.
## Worked example
Say you deposit 2,000 dollars at 4% per year, compounded monthly, and leave it alone for 10 years. Then P = 2000, r = 0.04, n = 12 and t = 10.
First work out the monthly rate: 0.04 / 12 = 0.003333... The number of compounding periods is 12 x 10 = 120.
So A = 2000 x (1.003333...)^120. The power is approximately 1.4908, which gives A = 2000 x 1.4908, or about 2,981.67 dollars.
## Compare with simple interest
With simple interest, you would earn 4% of 2,000, which is 80 dollars, every year, for a total of 800 dollars over ten years and a final balance of 2,800 dollars. Compounding adds roughly another 180 dollars without any extra deposits.
The same effect works against you on debts such as credit cards, where interest is often compounded daily at a much higher rate.
""")

article("at-least-one-six", "mathbits", "At Least One Six in Four Rolls: Using the Complement", ["Probability"],
        ["probability", "complement rule", "dice"], """
A classic beginner question in probability is this: if you roll a fair die four times, what is the chance of getting at least one six? Many people guess 4/6, reasoning that each roll has a 1/6 chance. That can't be right, because the same logic would give a probability above 1 for seven rolls.
## Count the opposite event
The trick is to calculate the probability that the event does not happen, and subtract it from 1. At least one six fails only when every roll shows something other than a six.
On a single roll, the chance of not rolling a six is 5/6. The rolls are independent, so the chance of no six in four rolls is
(5/6)^4 = 625/1296, which is about 0.482.
Therefore the probability of at least one six is 1 - 625/1296 = 671/1296, which is about 0.518, or just under 52%.
## Two dice
A related question asks about rolling a pair of dice 24 times and hoping for at least one double six. The chance of a double six on one roll is 1/36, so the probability of at least one in 24 rolls is 1 - (35/36)^24, which is about 0.491. That is slightly less than even, even though 24/36 is the same ratio as 4/6.
The lesson is that probabilities of repeated trials do not simply add up. Whenever you see the words at least one, try working with the complement first.
""")

article("edinburgh-long-weekend", "wander", "A Long Weekend in Edinburgh on Foot", ["Destinations", "Europe", "Scotland"],
        ["Edinburgh", "city breaks", "walking"], """
Edinburgh is compact enough that you can see a lot of it on foot in two or three days, provided you bring comfortable shoes and don't mind hills. Here is how we spent a long weekend there in October.
## Day one: the Old Town
We started at the castle early, before the tour groups arrived, then walked down the Royal Mile, ducking into the narrow closes that run off it on both sides. Many of them open into small courtyards that are easy to miss. In the afternoon we visited the National Museum of Scotland, which is free and large enough to fill several hours; the rooftop terrace has a good view of the castle.
## Day two: Arthur's Seat and Leith
Arthur's Seat, the old volcano in Holyrood Park, takes about forty-five minutes to climb from the palace end. The path is steep and slippery after rain, but the view over the city and out to the Firth of Forth is worth it. Afterwards we followed the Water of Leith walkway through Dean Village down to Leith, where the waterfront is full of good places to eat.
## Practical tips
The weather changes quickly, so pack a waterproof layer even if the forecast looks fine. Buses are frequent and a day ticket is good value if your legs give out. Book accommodation early if you are visiting in August, when the festivals fill the city and prices rise sharply.
""")

article("alpine-hut-hike", "wander", "Planning Your First Hut-to-Hut Hike in the Alps", ["Hiking", "Europe"],
        ["hiking", "Alps", "mountain huts", "trip planning"], """
Walking from one mountain hut to the next is one of the most rewarding ways to experience the Alps. You carry a light pack, sleep high in the mountains, and wake up already halfway to the next pass. It does take more planning than a day hike, though.
## Book ahead
Popular huts fill up months in advance for July and August, especially at weekends. Most have online booking or an email address. If your plans change, cancel as early as you can, since the wardens plan meals around reservations.
## Pack light
Huts provide blankets and pillows, so you usually only need a thin sleeping bag liner. Bring layers rather than one heavy jacket, plus a rain shell, sun protection, a headlamp and a small first aid kit. Many huts ask you to change into indoor shoes, and some lend slippers.
## Know the routes
Mountain trails are graded by difficulty. Some sections may include exposed ledges, fixed cables or snowfields that linger into summer. Read route descriptions carefully, carry a paper map, and check the weather every evening with the hut warden.
## Bring cash
Card machines are unreliable at altitude, and many huts accept cash only. Budget for half board, which usually means a three-course dinner and a simple breakfast.
""")

article("sleep-habits", "healthnotes", "Seven Habits That Can Help You Sleep Better", ["Sleep"],
        ["sleep", "insomnia", "healthy habits"], """
Most adults need somewhere between seven and nine hours of sleep, yet many regularly get less. While persistent insomnia deserves a conversation with a doctor, small changes to your daily routine often make a noticeable difference.
Keep a regular schedule. Going to bed and getting up at the same time every day, weekends included, helps set your body clock.
Get daylight in the morning. Natural light early in the day is one of the strongest signals that keep your internal clock on track.
Watch the caffeine. Coffee, tea, cola and energy drinks can stay in your system for many hours, so try to avoid them after early afternoon.
Make the bedroom dark, quiet and cool. Blackout curtains, earplugs or a fan can help if your surroundings are noisy or bright.
Wind down. Give yourself half an hour without work emails or scrolling before bed. Reading a paper book or taking a warm shower can signal that the day is over.
Be careful with alcohol. It may make you drowsy at first, but it tends to disrupt sleep later in the night.
Don't lie awake for hours. If you cannot sleep after about twenty minutes, get up, do something calm in dim light, and go back to bed when you feel sleepy.
If you snore loudly, wake up gasping, or feel exhausted despite a full night in bed, talk to a health professional, as these can be signs of a sleep disorder.
""")

article("heat-wave-safety", "healthnotes", "Staying Safe in a Heat Wave: Water, Shade and Warning Signs", ["Conditions", "Summer Health"],
        ["heat", "hydration", "first aid"], """
Hot weather puts extra strain on the body, particularly for older people, young children and anyone with heart or kidney conditions. A little planning reduces the risk of heat exhaustion.
Drink regularly through the day rather than waiting until you feel thirsty. Water is the best choice; sugary and alcoholic drinks are less helpful. A simple check is the colour of your urine: pale yellow usually means you are drinking enough.
Plan activity for the cooler parts of the day, early morning or evening. If you must be outside at midday, wear a wide-brimmed hat and loose, light-coloured clothing, and take breaks in the shade.
Keep your home cool by closing curtains on windows that face the sun and opening windows at night when the air outside is cooler.
Know the warning signs of heat exhaustion: headache, dizziness, nausea, heavy sweating, cramps and a fast pulse. Move the person somewhere cool, give them water, and loosen tight clothing. If they do not feel better within thirty minutes, or if they become confused or stop sweating, call emergency services, as this may be heatstroke.
Check on neighbours who live alone during a heat wave. A short visit or phone call can make a real difference.
""")

article("dripping-faucet", "hearth", "How to Fix a Dripping Single-Handle Kitchen Faucet", ["Home Projects", "Plumbing"],
        ["plumbing", "DIY", "repairs"], """
A faucet that drips once every few seconds can waste thousands of litres of water a year. On most single-handle faucets the culprit is a worn cartridge, and replacing it is a job you can do in under an hour with basic tools.
## What you need
An adjustable wrench, a set of hex keys, a flat screwdriver, a replacement cartridge that matches your faucet model, and a towel.
## Steps
1. Turn off the hot and cold supply valves under the sink, then open the faucet to let out the remaining water and pressure.
2. Put a towel in the sink so small parts can't fall down the drain.
3. Pry off the decorative cap on the handle and remove the screw underneath. Lift the handle off.
4. Unscrew the retaining nut or pull out the clip that holds the cartridge in place. Note which way the cartridge is facing, or take a photo.
5. Pull the old cartridge straight up. If it is stuck, a cartridge puller from the hardware store makes this much easier.
6. Take the old cartridge with you to the shop so you buy an identical one. Insert the new cartridge in the same orientation, then reassemble everything in reverse order.
7. Turn the supply valves back on slowly and check for leaks. If hot and cold are reversed, the cartridge is rotated 180 degrees; take it out and turn it around.
If the faucet still drips after a new cartridge, the valve seat or O-rings may be worn, and it could be time to replace the whole faucet.
""")

thread("drywall-patch", "fixit", "Best way to patch a doorknob hole in drywall?", ["Interior", "Walls and Ceilings"], [
    ("renovating_rob", """
The door in our hallway swung open too hard and the handle punched a hole in the wall about the size of a fist. I've never done drywall repair. Do I need to cut out a whole section, or is there a simpler fix?
"""),
    ("plaster_pete", """
For a hole that size you don't need to replace the sheet. Hardware stores sell self-adhesive mesh patches, usually 10 or 15 cm square. Stick one over the hole, then cover it with thin coats of joint compound, feathering each coat out wider than the last.
"""),
    ("DIYDana", """
The key is patience. Let each coat dry completely, sand lightly, and don't try to fill it all in one go. Three thin coats will look far better than one thick one. Prime before painting or the patch will show through as a dull spot.
"""),
    ("renovating_rob", """
Did it over the weekend with a mesh patch and three coats. You can barely see it. Also fitted a door stop so it doesn't happen again!
"""),
])

article("why-sky-blue", "curious", "Why Is the Sky Blue?", ["Physics", "Light"], ["light", "atmosphere", "Rayleigh scattering"], """
Sunlight looks white, but it is really a mixture of all the colours of the rainbow, each corresponding to a different wavelength. Blue and violet light have short wavelengths, while red light has a longer one.
When sunlight passes through the atmosphere, it runs into nitrogen and oxygen molecules that are much smaller than the wavelength of visible light. These molecules scatter light in all directions, but they scatter short wavelengths much more strongly than long ones. This effect is called Rayleigh scattering, and its strength rises steeply as the wavelength gets shorter.
As a result, blue light is bounced around the sky far more than red light. Wherever you look, away from the sun, some of that scattered blue light is heading toward your eyes, so the whole sky appears blue.
## Why not violet?
Violet light is scattered even more than blue, so you might expect a violet sky. There are a few reasons it doesn't look that way. The sun emits less violet than blue, some violet light is absorbed high in the atmosphere, and our eyes are much more sensitive to blue than to violet.
## Red sunsets
At sunrise and sunset, sunlight travels through a much thicker slice of atmosphere before it reaches you. By then most of the blue has been scattered out of the direct beam, leaving the oranges and reds that colour the sky near the horizon.
""")

article("two-tides", "curious", "How the Moon Causes Two Tides a Day", ["Earth", "Oceans"], ["tides", "Moon", "gravity"], """
Most coastlines see two high tides and two low tides roughly every 24 hours and 50 minutes. The main driver is the Moon's gravity, but the reason there are two bulges rather than one takes a little explaining.
The Moon's pull is not the same everywhere on Earth. The side facing the Moon is pulled slightly more strongly than Earth's centre, and the far side is pulled slightly less. What matters for tides is this difference in pull, known as the tidal force.
On the near side, water is pulled toward the Moon a little more than the solid Earth is, so it bulges toward the Moon. On the far side, the Earth is pulled toward the Moon more than the water there, leaving a second bulge pointing away. As the Earth rotates, a given coastline passes through both bulges each day.
The extra 50 minutes comes from the Moon's own motion. It moves along its orbit in the same direction that Earth spins, so each day the Earth has to turn a little further to catch up with it.
The Sun produces tides too, a little under half as strong as the Moon's. When the Sun and Moon line up, at new and full moon, their effects add together to give larger spring tides. When they are at right angles, around the quarter moons, the smaller neap tides occur.
Local geography changes the picture a great deal. Narrow bays and funnel-shaped estuaries can amplify the tidal range to many metres, while some enclosed seas have hardly any tide at all.
""")

thread("chain-skipping", "spoke", "Chain skipping under load after new chain - help", ["Maintenance", "Drivetrain"], [
    ("pedal_pusher88", """
I replaced my worn chain last week, and now when I stand up on the pedals to climb, the chain jumps and the pedals slip forward. It happens mostly in the smaller rear cogs. Shifting seems fine otherwise. Did I install it wrong?
"""),
    ("wrenchwizard", """
Classic symptom of a worn cassette. When a chain stretches over thousands of kilometres, the cogs wear to match it. A new chain has the correct pitch and doesn't sit properly on the worn teeth, so it skips under hard pedalling. The cogs you use most wear out first, which fits what you describe.
"""),
    ("gravel_grrl", """
Before buying parts, check the easy stuff: make sure the chain length is right and that the quick link is fully seated. A stiff link can also cause a jump once per chain revolution. Backpedal slowly and watch for a link that doesn't bend smoothly over the jockey wheels.
"""),
    ("pedal_pusher88", """
No stiff links, and the chain length matches the old one. Took it to the shop and they confirmed the three smallest cogs are worn. New cassette fitted and it's smooth again. Lesson learned: measure the chain more often!
"""),
    ("wrenchwizard", """
Glad it's sorted. A chain checker tool costs very little, and replacing chains on time can make a cassette last through two or three of them.
"""),
])

article("review-frankenstein", "readingchair", "Book Review: Frankenstein by Mary Shelley", ["Reviews", "Classics"],
        ["classics", "gothic fiction", "Mary Shelley"], """
I first read Frankenstein as a teenager, expecting a horror story about a lumbering monster, and came away confused. Rereading it this winter, I found something quite different: a restless, sad novel about responsibility, loneliness and what we owe to the things we create.
The structure is the first surprise. The story reaches us through letters written by an Arctic explorer, who meets a half-frozen Victor Frankenstein and writes down his account. In the middle of Victor's story, the creature tells his own, so we hear the same events from both sides.
Victor is not an easy narrator to like. He builds a living being in a burst of obsession, then runs away from it in disgust the moment it opens its eyes. Almost every disaster that follows can be traced back to that single act of abandonment.
The creature, by contrast, is the most articulate character in the book. He teaches himself to speak and read by secretly watching a family through a gap in a wall, and his account of being rejected again and again is the emotional centre of the novel. It is hard not to sympathise with him, even after he turns to violence.
The prose is ornate by modern standards, and some passages describing mountain scenery go on for a long time. But the central questions still feel urgent two centuries later.
Rating: 4.5 out of 5. Read it slowly, and read it again in ten years.
""")

article("review-eighty-days", "readingchair", "Book Review: Around the World in Eighty Days", ["Reviews", "Classics"],
        ["classics", "adventure", "Jules Verne"], """
Jules Verne's Around the World in Eighty Days is the sort of book people remember from film adaptations rather than from reading it. That is a shame, because the original is brisk, funny and much odder than its reputation suggests.
The premise is simple. Phileas Fogg, a wealthy London gentleman who lives his life by the clock, bets the members of his club twenty thousand pounds that he can travel around the globe in eighty days. He leaves the same evening with his new French servant, Passepartout, and a carpet bag stuffed with banknotes.
Much of the fun comes from the contrast between the two men. Fogg remains perfectly calm whether he is crossing India on an elephant or stranded on the American plains, while Passepartout lurches from one mishap to the next. A detective named Fix, convinced that Fogg is a bank robber, follows them most of the way and keeps creating new obstacles.
Some of the attitudes toward other cultures have aged badly, and a modern reader will wince at several passages. The travel logistics, on the other hand, are fascinating: the plot is built around the steamship and railway connections of the early 1870s.
The ending relies on a twist involving the date line that I won't spoil here, but it is a clever one.
Verdict: a light, quick read that rewards an evening or two. 4 out of 5.
""")

article("emergency-fund", "pennywise", "How to Build an Emergency Fund When Money Is Tight", ["Saving"],
        ["emergency fund", "saving", "budgeting"], """
An emergency fund is money set aside for unexpected expenses: a car repair, a broken boiler, a sudden drop in income. Without one, a single bad month can push you onto a credit card with high interest, and that debt can take years to clear.
## How much is enough?
A common guideline is three to six months of essential expenses, but that figure can feel impossible when you are starting from nothing. A better first target is a small, concrete amount, such as 500 or 1,000 dollars. That alone covers many everyday emergencies.
## Make saving automatic
Set up a transfer to a separate savings account on the day you get paid, even if it is only a small amount. Money you never see in your current account is much less likely to be spent.
## Find small leaks
Go through three months of bank statements and look for subscriptions you have forgotten about, or regular costs you could reduce. Redirect whatever you save into the fund.
## Keep it separate but accessible
The fund should be in an account you can reach within a day or two, but not one linked to your debit card. A little friction helps you resist dipping into it for things that are not real emergencies.
## Refill it after you use it
Using the fund is not a failure; that is what it is for. Once the emergency has passed, restart your automatic transfers until the balance is back where it was.
""")

thread("second-cat", "purr", "Introducing a second cat - how slow is slow enough?", ["Behaviour", "New Arrivals"], [
    ("whiskers_and_tea", """
We're adopting a young female cat next week. Our current cat is a six-year-old neutered male who has been the only pet since he was a kitten. Everyone says to introduce them slowly, but what does that actually look like day to day?
"""),
    ("catlady_jo", """
Give the new cat her own room with food, water, litter and a bed for the first week or so, and keep the door shut. Let them sniff each other under the door, and swap their blankets every day so they get used to each other's scent before they meet.
"""),
    ("FelineVet_Sam", """
The next step is seeing each other without being able to touch. A baby gate or a door opened a few centimetres works. Feed them on opposite sides, moving the bowls a little closer over several days. If either cat stops eating or hisses constantly, go back a step. Some cats settle in a week, others need a month or more.
"""),
    ("whiskers_and_tea", """
That's really helpful, thank you. Should I be worried if they hiss at first?
"""),
    ("catlady_jo", """
A bit of hissing is normal and mostly means I'm not sure about you. What you want to avoid is a real fight early on, because cats remember bad first meetings. Short, calm sessions that end on a good note are the goal.
"""),
])

article("jupiter-moons-binoculars", "curious", "Seeing Jupiter's Moons with Ordinary Binoculars", ["Space", "Stargazing"],
        ["Jupiter", "binoculars", "stargazing", "Galileo"], """
You don't need a telescope to see the four largest moons of Jupiter. A steady pair of binoculars, such as a common 10x50 model, is enough to show them as tiny points of light lined up beside the planet.
First, find Jupiter. It is usually the brightest point in the night sky after the Moon and Venus, and it shines with a steady light rather than twinkling like the stars. A free planetarium app will tell you where it is on any given night.
Steadiness matters more than magnification. Lean against a wall or a car roof, or better still, mount the binoculars on a camera tripod with an inexpensive adapter. The moment the image stops shaking, the moons become much easier to spot.
You may see two, three or all four moons, depending on the night. Sometimes one is hidden behind the planet or passing in front of it, and sometimes two are too close together to separate. Over a few hours their positions visibly change, because Io, the innermost, goes around Jupiter in less than two days.
These are the same moons Galileo observed in 1610, when he realised that they were circling Jupiter rather than the Earth. Try sketching their positions on several nights in a row; you will be repeating one of the most important observations in the history of astronomy.
""")

article("couch-to-5k", "easymiles", "From the Sofa to Your First 5K: A Gentle Eight-Week Plan", ["Training Plans", "Beginners"],
        ["beginners", "5K", "training plan"], """
If the idea of running for half an hour sounds impossible, you are exactly who this plan is for. The trick is to start with short intervals of running and walking, and build up so gradually that your body has time to adapt.
Weeks 1 and 2: Three times a week, warm up with five minutes of brisk walking, then alternate one minute of easy running with ninety seconds of walking, eight times.
Weeks 3 and 4: Run for two minutes, walk for one minute, and repeat six times. Keep the running pace slow enough that you could hold a conversation.
Weeks 5 and 6: Run for five minutes, walk for two minutes, three or four times. Towards the end of week 6, try one continuous twenty-minute run.
Weeks 7 and 8: Build your continuous run from twenty to thirty minutes. For most beginners, thirty minutes of easy running covers somewhere around four to five kilometres.
A few things make a big difference. Get fitted for running shoes at a specialist shop if you can, because the wrong shoes can cause knee and shin pain. Rest days are part of the plan, not a sign of weakness. And if a week feels too hard, simply repeat it; nobody is timing you.
If you have a heart condition or other health concerns, check with your doctor before starting a new exercise programme.
""")

article("ferry-storm", "coast", "Storm forces cancellation of island ferry service for second day", ["Local", "Weather"],
        ["weather", "ferries", "Kelby Island"], """
Ferry crossings between the mainland and Kelby Island were cancelled for a second consecutive day on Thursday as strong winds and a heavy swell continued along the coast.
The operator said all sailings were suspended until at least Friday afternoon, when the wind is forecast to ease. Passengers with bookings will be offered refunds or free transfers to a later sailing.
Gusts of up to 110 km/h were recorded at the harbour overnight, and a section of the seafront promenade in town was closed after waves threw stones and debris onto the footpath.
On the island, the village shop reported running low on bread and milk. "We usually get deliveries every morning, so a two-day gap is noticeable," the owner said, adding that residents had been sharing supplies with neighbours.
The island's health centre remains open, and the coastguard said an emergency helicopter is available if anyone needs an urgent transfer to the mainland hospital.
Forecasters have issued a yellow weather warning for wind covering the whole coast until Friday evening.
""")

article("waggle-dance", "wiki", "Waggle dance", [], ["Honey bees", "Animal communication", "Ethology"], """
The waggle dance is a behaviour performed by honey bee workers to tell other members of the colony where to find food. Its meaning was worked out in the mid-20th century by the Austrian biologist Karl von Frisch, who shared the 1973 Nobel Prize in Physiology or Medicine for his work on animal behaviour.
## Description
A forager returning from a good source of nectar or pollen runs a figure-of-eight pattern on the vertical surface of the comb. During the straight middle section, the waggle run, she vibrates her body rapidly from side to side. She then circles back to the start, alternating left and right turns.
## Information encoded
The angle of the waggle run relative to vertical represents the direction of the food source relative to the sun. A run straight up the comb means fly toward the sun, while a run angled 40 degrees to the right of vertical means the food lies 40 degrees to the right of the sun's direction.
The duration of the waggle run indicates distance: longer runs signal food that is farther away. Bees following the dance also pick up the scent of the flowers the forager has visited.
## Round dance
For food sources very close to the hive, bees perform a simpler round dance that signals that food is nearby without giving a precise direction. Many researchers now regard it as a short form of the waggle dance rather than a separate behaviour.
""")

article("spring-pruning-roses", "hearth", "A Beginner's Guide to Pruning Roses in Early Spring", ["Garden", "Flowers"],
        ["roses", "pruning", "spring jobs"], """
Pruning roses looks intimidating, but bush roses are forgiving plants, and a confident cut in early spring does far more good than a timid trim. I prune mine when the worst frosts have passed and the buds along the stems are just starting to swell.
## Start with the three Ds
Remove anything dead, damaged or diseased first, cutting back to healthy green wood. Then take out stems that cross through the middle of the bush or rub against each other, so that air can move freely. Good airflow is the best protection against black spot.
## Cut above an outward-facing bud
Make each cut about half a centimetre above a bud that points away from the centre of the plant, sloping away from the bud so rain runs off. New growth will follow the direction of that bud and keep the bush open.
## How hard to prune
For most bush roses, shorten the remaining strong stems by about a half. Older, woody plants can be cut harder to encourage fresh shoots from the base. Climbers are different: keep their long main stems and shorten only the side shoots that flowered last year.
Finish by clearing fallen leaves from around the plant, then spread a layer of compost or well-rotted manure. Clean, sharp secateurs make neater cuts that heal faster, so wipe the blades between plants.
""")

# Edge case: non-ASCII text (French local news with French boilerplate).
FRENCH = dict(key="marche-de-noel", site=None, title="Le marché de Noël de Saint-Aubin attire les visiteurs de toute la région", body=L("""
Le marché de Noël de Saint-Aubin a ouvert ses portes samedi après-midi sur la place de l'Église, sous un ciel dégagé mais glacial. Une quarantaine d'exposants, pour la plupart des artisans et des producteurs de la région, proposent jusqu'au 24 décembre des décorations, des bijoux, des jouets en bois et des spécialités gourmandes.
« Nous avons choisi de privilégier les produits locaux », explique Hélène Marchand, présidente du comité des fêtes. « Les visiteurs veulent savoir d'où viennent les objets qu'ils achètent, et ils aiment rencontrer les gens qui les fabriquent. »
Parmi les nouveautés de cette édition figurent une patinoire synthétique installée devant la mairie et un atelier de couronnes de l'Avent, animé chaque mercredi par une fleuriste du village. Les enfants pourront également déposer leur lettre au père Noël dans une boîte aux lettres géante, près du kiosque à musique.
Côté gourmandises, le vin chaud, les marrons grillés et le pain d'épices restent incontournables. Un stand tenu par les élèves du lycée professionnel vend des crêpes au profit d'un voyage scolaire en Écosse.
Le marché est ouvert tous les jours de 14 h à 20 h, et jusqu'à 22 h le vendredi et le samedi. L'entrée est gratuite. Des navettes relient la gare au centre-ville toutes les vingt minutes.
"""))

# Edge case: long, list-heavy body.
CHECKLIST = dict(key="camping-checklist", site="wander", title="The Camping Packing Checklist I Actually Use",
                 crumbs=["Travel Tips", "Camping"], tags=["camping", "packing list", "checklists", "gear"], body=L("""
After years of forgetting the tent pegs, the lighter or the one spare pair of socks that mattered, I keep a single checklist for every camping trip. Copy it, cross out what you don't need, and add your own.
## Shelter and sleep
- Tent, with poles, pegs and guy lines
- Footprint or groundsheet
- Sleeping bag rated for the coldest night forecast
- Sleeping mat or air mattress, plus the repair kit
- Pillow, or a stuff sack filled with clothes
- Small mallet for hard ground
## Kitchen
- Stove and fuel, checked before leaving
- Lighter and a backup box of matches
- Pot, pan and lid
- Plates, bowls and mugs
- Cutlery and a sharp knife
- Chopping board
- Cool box and ice packs
- Water bottles and a collapsible water carrier
- Washing-up liquid, sponge and tea towel
- Rubbish bags
## Clothing
- Waterproof jacket and trousers
- Warm fleece or down layer
- Hat and gloves, even in summer
- Quick-drying trousers or shorts
- Spare socks, more than you think
- Camp shoes or sandals
## Health and safety
- First aid kit
- Sunscreen and insect repellent
- Any personal medication
- Head torch with spare batteries
- Whistle
- Paper map of the area
## Tools and extras
- Multi-tool
- Duct tape wrapped around a water bottle
- Spare tent pegs
- Camping chairs
- Power bank and charging cables
- Book or a pack of cards
Before you leave, pitch the tent once in the garden or a park. It is far easier to find a missing pole at home than in the dark on a wet hillside.
"""))

# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70].strip("-")


def rand_date(rng: random.Random) -> dt.datetime:
    start = dt.datetime(2019, 1, 1)
    return start + dt.timedelta(days=rng.randrange(0, 1980), minutes=rng.randrange(7 * 60, 23 * 60))


def fmt_date(d: dt.datetime) -> str:
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def fmt_time(d: dt.datetime) -> str:
    hour = d.hour % 12 or 12
    return f"{hour}:{d.minute:02d} {'am' if d.hour < 12 else 'pm'}"


def is_prose(line: str) -> bool:
    return len(line) > 80 and line[-1] in ".!?\"" and not line.startswith(("## ", "- ", "    "))


def related_pool(site_key: str, exclude: str) -> list[str]:
    own = [d["title"] for d in GOOD if d.get("site") == site_key and d["title"] != exclude]
    return own + SITES[site_key]["extra"]


def pick_related(rng: random.Random, site_key: str, exclude: str, k: int) -> list[str]:
    pool = related_pool(site_key, exclude)
    return rng.sample(pool, min(k, len(pool)))


def add_body_noise(rng: random.Random, lines: list[str], site_key: str, title: str, kind: str) -> list[str]:
    """In-line noise (appended to prose lines) and a few interstitial lines (ads, read-more links)."""
    lines = list(lines)
    prose = [i for i, line in enumerate(lines) if is_prose(line)]
    if kind != "wiki":
        noise = SHOP_NOISE if kind == "shop" else INLINE_NOISE
        for i in rng.sample(prose, min(rng.choice([0, 1, 1, 2]), len(prose))):
            lines[i] += rng.choice(noise)
    else:
        for i in rng.sample(prose, min(rng.choice([1, 2, 3]), len(prose))):
            lines[i] += rng.choice(WIKI_REF_MARKS)
        return lines
    inserts = []
    if kind in ("news", "health") and rng.random() < 0.8:
        inserts.append(rng.choice(ADS))
    elif rng.random() < 0.3:
        inserts.append(rng.choice(["Advertisement", "ADVERTISEMENT", "Sponsored", "- Advertisement -"]))
    if rng.random() < 0.5:
        related = pick_related(rng, site_key, title, 1)
        if related:
            inserts.append(rng.choice(READ_MORE).format(title=related[0]))
    for extra in inserts:
        gaps = [i + 1 for i in prose if 0 < i + 1 < len(lines)]
        if gaps:
            lines.insert(rng.choice(gaps), extra)
            prose = [i for i, line in enumerate(lines) if is_prose(line)]
    return lines


def body_lines(doc: dict, rng: random.Random, kind: str, site_key: str) -> list[str]:
    out = []
    for line in doc["body"]:
        if line.startswith("## "):
            heading = line[3:]
            out.append(heading + (" [edit]" if kind == "wiki" else ""))
        else:
            out.append(line)
    return add_body_noise(rng, out, site_key, doc["title"], kind)


def copyright_line(rng: random.Random, site: dict, year: int) -> str:
    owner = site.get("owner", site["name"])
    return rng.choice([
        f"Copyright \u00a9 {year} {owner}. All rights reserved.",
        f"\u00a9 {year} {owner}",
        f"Copyright {year} {site['name']} | Powered by WordPress | Theme by Example Themes",
        f"\u00a9 2015\u2013{year} {owner}. All rights reserved.",
        f"\u00a9 {year} {owner}. All rights reserved. Reproduction without permission is prohibited.",
    ])


FOOTER_LINKS = ["Privacy Policy | Terms of Use | Sitemap", "About | Contact | Advertise | Privacy Policy",
                "Privacy | Cookies | Terms and Conditions | Accessibility", "About us  Contact  Privacy policy  Terms of service",
                "Privacy Policy | Cookie Policy | Disclaimer | Contact"]


# --------------------------------------------------------------------------------------------------
# Page builders
# --------------------------------------------------------------------------------------------------


def build_article(doc: dict, rng: random.Random) -> tuple[str, str, str]:
    """Blog, news, health, edu and review pages."""
    site_key = doc["site"]
    site = SITES[site_key]
    kind = site["kind"]
    date = rand_date(rng)
    author = rng.choice(AUTHORS)
    n_comments = rng.randrange(0, 60)
    slug = slugify(doc["title"])
    if kind in ("news", "health"):
        url = f"https://www.{site['domain']}/{slugify(doc['crumbs'][-1])}/{slug}-{rng.randrange(100000, 999999)}"
    elif kind == "edu":
        url = f"https://{site['domain']}/{slugify(doc['crumbs'][0])}/{slug}/"
    elif kind == "review":
        url = f"https://www.{site['domain']}/reviews/{slug}/"
    else:
        url = f"https://{site['domain']}/{date.year}/{date.month:02d}/{slug}/"

    top, bottom = [], []
    if rng.random() < 0.4:
        top.append(rng.choice(SKIP_LINKS))
    cookie = rng.choice(COOKIE_BANNERS)
    cookie_pos = rng.choice(["top", "top", "bottom", None])
    if cookie_pos == "top":
        top += cookie
    if kind == "news" and rng.random() < 0.5:
        top.append(f"{MONTHS[date.month - 1]} {date.day}, {date.year} | Today's paper | Weather: {rng.randrange(2, 28)}\u00b0C")
    if rng.random() < 0.7:
        top.append(site["name"])
        if site.get("tagline") and rng.random() < 0.5:
            top.append(site["tagline"])
    top += site["nav"]
    if rng.random() < 0.6:
        top.append(rng.choice(ACCOUNT_LINES))
    if doc.get("crumbs") and rng.random() < 0.7:
        sep = rng.choice([" > ", " / ", " \u00bb ", " \u203a "])
        top.append(sep.join(["Home"] + doc["crumbs"]))
    if kind == "news" and rng.random() < 0.4:
        top.append(doc["crumbs"][-1].upper())
    top.append(doc["title"])

    if kind in ("news", "health"):
        byline = rng.choice([f"By {author}, Staff Reporter", f"By {author}", f"{author} | Health Writer" if kind == "health" else f"{author}, Local Democracy Reporter"])
        top.append(byline)
        updated = date + dt.timedelta(minutes=rng.randrange(20, 300))
        top.append(rng.choice([
            f"Published {fmt_date(date)} at {fmt_time(date)} | Updated {fmt_time(updated)}",
            f"{fmt_date(date)} {fmt_time(date)}",
            f"Published: {date.day:02d}/{date.month:02d}/{date.year}",
        ]))
        if rng.random() < 0.5:
            top += rng.choice(SHARE_BLOCKS)
        meta_bottom = False
    else:
        meta = rng.choice(POSTED_LINES).format(author=author, date=fmt_date(date), n=n_comments, minutes=rng.randrange(3, 9))
        meta_bottom = rng.random() < 0.3
        if not meta_bottom:
            top.append(meta)
    if kind == "review":
        top.append("Affiliate disclosure: we may earn a commission when you buy through links on our site.")
    if kind == "review" or (kind == "blog" and rng.random() < 0.15):
        top.append(rng.choice(["Jump to Recipe | Print Recipe", "Table of Contents", "This post may contain affiliate links."])
                   if kind == "blog" else "Check current price")

    body = body_lines(doc, rng, kind, site_key)
    if kind == "health":
        body.append("This article is for general information only and is not a substitute for professional medical advice.")

    segments = []
    if meta_bottom:
        segments.append([meta])
    if rng.random() < 0.7:
        segments.append(list(rng.choice(SHARE_BLOCKS)))
    if doc.get("tags") and rng.random() < 0.65:
        label = rng.choice(["Tags: ", "Filed under: ", "Tagged: ", "Topics: "])
        segments.append([label + ", ".join(doc["tags"])])
    if rng.random() < 0.7:
        header = rng.choice(RELATED_HEADERS).format(section=doc["crumbs"][0] if doc.get("crumbs") else "us")
        segments.append([header] + pick_related(rng, site_key, doc["title"], rng.randrange(3, 7)))
    if kind in ("blog", "edu", "review") and rng.random() < 0.35:
        block = rng.choice(COMMENT_BLOCKS)
        segments.append([line.format(n=n_comments, title=doc["title"]) for line in block])
    if rng.random() < 0.4:
        segments.append(list(rng.choice(NEWSLETTERS)))
    if kind in ("blog", "edu") and rng.random() < 0.3:
        segments.append([rng.choice(PAGINATION) if kind == "blog" else "\u2190 Previous lesson | Next lesson \u2192"])
    if kind == "news" and rng.random() < 0.6:
        segments.append(["Most read"] + [f"{i}. {t}" for i, t in enumerate(pick_related(rng, site_key, doc["title"], 5), 1)])
    if kind == "news" and rng.random() < 0.4:
        segments.append([rng.choice(["Comments are closed for this article.", "Join the conversation: sign in to comment.",
                                     "Have a story? Email newsdesk@" + site["domain"]])])
    # shuffle the middle segments a little but keep meta first when present
    head = segments[:1] if meta_bottom else []
    rest = segments[len(head):]
    rng.shuffle(rest)
    for seg in head + rest:
        bottom += seg
    if rng.random() < 0.85:
        bottom.append(rng.choice(FOOTER_LINKS))
    if rng.random() < 0.9:
        bottom.append(copyright_line(rng, site, date.year))
    if rng.random() < 0.35:
        bottom.append(rng.choice(BACK_TO_TOP))
    if cookie_pos == "bottom":
        bottom += cookie
    return url, "\n".join(top + body + bottom), kind


def build_wiki(doc: dict, rng: random.Random) -> tuple[str, str, str]:
    site = SITES["wiki"]
    page = doc["title"].replace(" ", "_")
    url = f"https://{site['domain']}/wiki/{page}"
    date = rand_date(rng)
    lines = []
    if rng.random() < 0.6:
        lines.append("Jump to navigation Jump to search" if rng.random() < 0.5 else "Jump to content")
    lines += site["nav"]
    lines.append(rng.choice(["Log in | Create account", "Create account | Log in", "Not logged in | Talk | Contributions | Create account | Log in"]))
    lines.append("Article | Talk")
    lines.append("Read | Edit | View history")
    lines.append(doc["title"])
    lines.append(f"From {site['name']}, the free encyclopedia")
    headings = [line[3:] for line in doc["body"] if line.startswith("## ")]
    body = body_lines(doc, rng, "wiki", "wiki")
    if headings and rng.random() < 0.75:
        toc = ["Contents"] + [f"{i} {h}" for i, h in enumerate(headings, 1)]
        first_heading = next(i for i, line in enumerate(body) if line.endswith(" [edit]"))
        body = body[:first_heading] + toc + body[first_heading:]
    lines += body
    others = [d["title"] for d in GOOD if d["site"] == "wiki" and d["title"] != doc["title"]]
    if rng.random() < 0.6:
        lines += ["See also [edit]"] + rng.sample(others, min(2, len(others)))
    lines += ["References [edit]"]
    for _ in range(1, rng.randrange(3, 6)):
        lines.append(f"^ {rng.choice(['Smith', 'Larsen', 'Moreau', 'Keller', 'Nakamura', 'Brennan'])}, "
                     f"{rng.choice(['A.', 'J.', 'M.', 'R.'])} ({rng.randrange(1960, 2021)}). "
                     f"{rng.choice(['A Short History', 'An Introduction', 'Selected Studies', 'Field Notes', 'Collected Essays'])}. "
                     f"p. {rng.randrange(3, 400)}.")
    lines.append(f"Retrieved from \"https://{site['domain']}/w/index.php?title={page}&oldid={rng.randrange(10**8, 10**9)}\"")
    lines.append("Categories: " + " | ".join(doc["tags"]))
    lines.append(f"This page was last edited on {date.day} {MONTHS[date.month - 1]} {date.year}, at {date.hour:02d}:{date.minute:02d}.")
    lines.append("Text is available under the Creative Commons Attribution-ShareAlike License; additional terms may apply.")
    lines.append(f"Privacy policy | About {site['name']} | Disclaimers | Contact | Mobile view")
    return url, "\n".join(lines), "wiki"


def build_forum(doc: dict, rng: random.Random) -> tuple[str, str, str]:
    site_key = doc["site"]
    site = SITES[site_key]
    style = site["style"]
    topic_id = rng.randrange(1000, 99999)
    slug = slugify(doc["title"])
    url = {"phpbb": f"https://{site['domain']}/forum/viewtopic.php?f={rng.randrange(2, 40)}&t={topic_id}",
           "discourse": f"https://{site['domain']}/t/{slug}/{topic_id}",
           "vbulletin": f"https://www.{site['domain']}/threads/{slug}.{topic_id}/"}[style]
    lines = []
    if rng.random() < 0.5:
        lines += rng.choice(COOKIE_BANNERS)
    lines.append(site["name"])
    lines += site["nav"]
    lines.append(rng.choice(["Log in | Register", "Sign Up | Log In", "Login | Register | Search"]))
    if style == "phpbb":
        lines.append(" \u2039 ".join(["Board index"] + doc["crumbs"]))
    elif style == "vbulletin":
        lines.append(" > ".join(["Forums"] + doc["crumbs"]))
    else:
        lines.append(" / ".join(doc["crumbs"]))
    lines.append(doc["title"])
    n = len(doc["posts"])
    if style == "phpbb":
        lines.append("Post Reply")
        lines.append(f"{n} posts \u2022 Page 1 of 1")
    elif style == "vbulletin":
        lines.append(f"Thread starter {doc['posts'][0][0]} | Start date {fmt_date(rand_date(rng))}")

    when = rand_date(rng)
    profiles = {}
    for i, (user, text) in enumerate(doc["posts"]):
        when += dt.timedelta(minutes=rng.randrange(15, 60 * 30))
        if user not in profiles:
            profiles[user] = (rng.randrange(3, 5000), f"{MONTHS[rng.randrange(12)][:3]} {rng.randrange(2010, 2023)}",
                              rng.choice(["Member", "Senior Member", "Junior Member", "Regular", "Moderator"]))
        posts, joined, rank = profiles[user]
        if style == "phpbb":
            lines.append(doc["title"] if i == 0 else f"Re: {doc['title']}")
            lines.append(f"by {user} \u00bb {when.strftime('%a')} {MONTHS[when.month - 1][:3]} {when.day:02d}, {when.year} {fmt_time(when)}")
            lines += text
            if rng.random() < 0.6:
                lines.append(f"Posts: {posts:,} | Joined: {joined}")
            lines.append("Top")
        elif style == "discourse":
            lines.append(user)
            lines.append(f"{MONTHS[when.month - 1][:3]} '{when.year % 100:02d}")
            lines += text
            likes = rng.randrange(0, 14)
            lines.append((f"{likes} Likes" if likes != 1 else "1 Like") if likes else "Reply")
            if i == 0 and rng.random() < 0.7:
                lines.append(f"created {MONTHS[when.month - 1][:3]} '{when.year % 100:02d} | last reply | {n - 1} replies | {rng.randrange(40, 3000)} views")
        else:
            lines.append(f"#{i + 1}")
            lines.append(user)
            lines.append(rank)
            lines.append(f"Join Date: {joined} Posts: {posts:,}")
            lines += text
            lines.append("Reply With Quote")
    if style == "phpbb":
        lines.append(f"Return to \u201c{doc['crumbs'][-1]}\u201d")
        lines.append("Jump to")
        lines.append("Who is online")
        lines.append(f"Users browsing this forum: No registered users and {rng.randrange(1, 30)} guests")
    elif style == "discourse":
        lines.append("Related topics")
        lines += pick_related(rng, site_key, doc["title"], 3)
    else:
        lines.append("Similar threads")
        lines += pick_related(rng, site_key, doc["title"], rng.randrange(2, 5))
        lines.append("You must log in or register to reply here.")
    lines.append(rng.choice(FOOTER_LINKS))
    lines.append(f"\u00a9 {when.year} {site['owner']} | Powered by ForumSoft")
    return url, "\n".join(lines), "forum"


def build_shop(doc: dict, rng: random.Random) -> tuple[str, str, str]:
    site = SITES[doc["site"]]
    url = f"https://www.{site['domain']}/products/{slugify(doc['title'])}"
    lines = [rng.choice(["Free delivery on orders over $50 | 30-day returns", "Free shipping on orders over $50"])]
    lines.append(site["name"])
    lines += site["nav"]
    lines += ["Search products", "Account | Wishlist | Basket (0)"]
    lines.append(" / ".join(["Home"] + doc["crumbs"]))
    lines.append(doc["title"])
    lines.append(doc["rating"])
    lines.append(doc["price"])
    lines += ["In stock - ships within 24 hours", "Quantity: 1", "Add to basket", "Add to wishlist"]
    lines += body_lines(doc, rng, "shop", doc["site"])
    lines.append("Write a review")
    lines.append("Customers also bought")
    for name in rng.sample(["Cast Iron Griddle Pan, 27 cm", "Silicone Handle Sleeve", "Chainmail Scrubber",
                            "Enamelled Dutch Oven, 4.7 L", "Seasoning Oil, 250 ml", "Beechwood Spatula"], 4):
        lines += [name, f"${rng.randrange(6, 90)}.{rng.choice(['00', '49', '95', '99'])}"]
    lines += ["Delivery & Returns | Contact us | FAQ | Track your order",
              "We accept Visa, Mastercard, PayPal and Apple Pay",
              copyright_line(rng, site, rand_date(rng).year)]
    return url, "\n".join(lines), "shop"


def build_french(doc: dict, rng: random.Random) -> tuple[str, str, str]:
    date = dt.datetime(2023, 12, 2, 18, 45)
    url = "https://www.courrierdelavallee.example/actualites/saint-aubin/" + slugify(
        "le marche de noel de saint aubin attire les visiteurs") + "-8841207"
    lines = [
        "Aller au contenu principal",
        "Nous utilisons des cookies pour améliorer votre expérience. Tout accepter / Paramétrer",
        "Le Courrier de la Vallée",
        "Accueil | Actualités | Sports | Culture | Économie | Météo | Contact",
        "Se connecter | S'abonner",
        "Accueil > Actualités > Saint-Aubin",
        doc["title"],
        "Par Julien Lefèvre",
        "Publié le 2 décembre 2023 à 18h45 | Mis à jour le 3 décembre 2023 à 09h12",
        "Partager sur Facebook | Twitter | E-mail",
    ]
    body = list(doc["body"])
    body[1] += " (Cliquez ici pour vous abonner)"
    body.insert(3, "Publicité")
    body.insert(5, "À lire aussi : Les illuminations de Noël allumées vendredi soir dans le centre-ville")
    lines += body
    lines += [
        "Mots-clés : Saint-Aubin, marché de Noël, artisanat, fêtes de fin d'année",
        "À lire aussi",
        "Travaux : la rue des Tanneurs fermée jusqu'à la fin du mois",
        "Football : victoire de l'US Saint-Aubin face au leader",
        "Le club de randonnée fête ses trente ans",
        "Newsletter : recevez chaque matin l'essentiel de l'actualité locale",
        "Votre adresse e-mail",
        "Je m'inscris",
        "Mentions légales | Politique de confidentialité | Plan du site | Nous contacter",
        f"© {date.year} Le Courrier de la Vallée. Tous droits réservés.",
        "Haut de page",
    ]
    return url, "\n".join(lines), "news"


# --------------------------------------------------------------------------------------------------
# Low-quality documents (a cleaner should drop these whole)
# --------------------------------------------------------------------------------------------------


def bad_seo_spam(rng):
    kw = "plumber near me"
    cities = ["New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Dallas", "San Diego", "Austin"]
    return "https://best-cheap-plumber-near-me-247.example/", [
        "Best Plumber Near Me | Cheap Plumber | Emergency Plumber 24/7 | Plumber Near Me Open Now",
        "Home | Plumber Near Me | Cheap Plumber Near Me | Best Plumber | Contact Plumber",
        "Best Plumber Near Me Cheap - Top 10 Plumber Near Me 2023",
        f"Looking for the best {kw}? Our {kw} service is the best cheap {kw} for all {kw} needs. When you search {kw}, "
        f"best {kw} or cheap {kw}, our {kw} experts are the {kw} you need.",
        ", ".join(f"{kw} {s}" for s in ["cheap", "open now", "emergency", "24 hours", "prices", "reviews", "same day",
                                        "best", "local", "affordable"]) + ".",
        f"Why choose our {kw}? Because we are the best {kw} and the cheapest {kw}. {kw.capitalize()} is our passion. "
        f"Call {kw} today for {kw} service near me.",
        " | ".join(f"{kw.title()} in {c}" for c in cities),
        f"Keywords: {kw}, cheap {kw}, best {kw}, emergency {kw}, {kw} open now, {kw} cheap prices",
        "Call Now!!! Call Now!!! Call Now!!!",
        "Copyright 2023 Best Plumber Near Me Cheap. All rights reserved.",
    ], "spam"


def bad_link_directory(rng):
    first = ["Sparkle", "Bright", "Fresh", "Pro", "Clean", "Shine", "Pure", "Ace", "Prime", "Green"]
    second = ["Home", "Maid", "Carpet", "Window", "Steam", "House", "Office", "Floor"]
    third = ["Cleaning", "Services", "Cleaners", "Care", "Solutions", "Team"]
    lines = ["Skip to main content", "LinkHub Web Directory - Find the best sites on the web",
             "Home | Add URL | Top Sites | New Listings | Contact", "Home > Business > Home Services > Cleaning",
             "Categories",
             "Carpet Cleaning (14) | Window Cleaning (9) | Pressure Washing (6) | Maid Services (22) | Gutter Cleaning (4)",
             "Listings (1-20 of 356)"]
    names = sorted({f"{a} {b} {c}" for a in first for b in second for c in third})
    for name in rng.sample(names, 16):
        lines.append(f"{name} - www.{slugify(name).replace('-', '')}.example - PR: {rng.randrange(0, 5)}/10 - Visit site")
    lines += ["Submit your site | Premium listing $9.99/year | Featured listing $49/year",
              "\u00ab Previous 1 2 3 4 5 ... 18 Next \u00bb", "\u00a9 2023 LinkHub Directory | Privacy | Terms"]
    return "https://www.linkhub-directory.example/business/home-services/cleaning/", lines, "directory"


def bad_lorem(rng):
    return "https://blueharborstudio.example/sample-page/", [
        "Skip to content", "My Site", "Just another site", "Home | Sample Page | Blog | Contact",
        "Sample Page", "Posted on January 1, 2023 by admin",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
        "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
        "Heading Placeholder",
        "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. "
        "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
        "Button Text", "Image caption goes here",
        "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam.",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "Categories: Uncategorized", "Leave a comment", "Proudly powered by WordPress | Theme: Starter Theme",
    ], "blog"


def bad_login_wall(rng):
    return "https://members.insidercircle.example/articles/2023/the-complete-guide", [
        "Skip to main content", "We value your privacy",
        "We and our 842 partners store and/or access information on a device, such as cookies, and process personal data "
        "for personalised ads and content, ad and content measurement, audience insights and product development.",
        "Accept all | Reject all | Manage preferences", "Insider Circle", "Members Area",
        "You must be logged in to view this page.", "Username or email", "Password", "Remember me", "Log in",
        "Forgot your password? | Create an account",
        "Not a member yet? Register for free to unlock all articles, downloads and the members' forum.",
        "\u00a9 2023 Insider Circle. All rights reserved. | Privacy Policy | Cookie Policy",
    ], "forum"


def bad_404(rng):
    site = SITES["gazette"]
    return f"https://www.{site['domain']}/news/local/parking-charges-review-482213", [
        "Skip to main content", site["name"], *site["nav"], "Subscribe | Sign in",
        "404", "Page not found",
        "Sorry, the page you were looking for could not be found. It may have been moved, renamed or deleted.",
        "Please check the address, or try searching our site.", "Search", "Go to homepage",
        "Popular right now", *rng.sample(site["extra"], 3),
        rng.choice(FOOTER_LINKS), f"Copyright \u00a9 2023 {site['owner']}. All rights reserved.",
    ], "news"


def bad_casino(rng):
    return "https://mega-win-bonus-casino.example/free-spins-2023", [
        "\u2605\u2605\u2605 BEST ONLINE CASINO 2023 \u2605\u2605\u2605",
        "Get 500 FREE SPINS + 200% WELCOME BONUS!!! Sign up NOW",
        "Play slots, roulette, blackjack - win BIG money today! No deposit needed!!!",
        "CLICK HERE >>> claim your bonus <<< CLICK HERE",
        "cheap pills online no prescription | fast delivery | best price pills | discount pharmacy online",
        "Lose 10 kg in 7 days with our miracle pills! Doctors hate this one simple trick!",
        "casino bonus casino bonus casino bonus free spins free spins free spins",
        "Best casino | Top casino | Casino online | Online casino bonus | Casino free spins | Casino no deposit",
        "Limited offer!!! Only today!!! Hurry up!!!",
        "Terms apply. 18+ only. Play responsibly.",
    ], "spam"


def bad_gibberish(rng):
    words = ["best", "garden", "home", "ideas", "design", "modern", "cheap", "top", "amazing", "decor", "2023", "house"]
    templates = ["The {a} {b} {c} is the {a} {c} for {d} {b} {e}.", "{A} {b} {c} {d} and {a} {e} {b} for your {c}.",
                 "{A} {b} ideas {c} {d} the best {e} {b} ideas {c}.", "Your {a} {b} is {c} {d} {e} with {a} {b} {c}."]
    lines = ["Best Garden Home Ideas Design 2023 Top Amazing Garden Home Ideas", "Home | Garden | Ideas | Design | Best"]
    for _ in range(7):
        sentences = []
        for _ in range(rng.randrange(4, 7)):
            a, b, c, d, e = (rng.choice(words) for _ in range(5))
            sentences.append(rng.choice(templates).format(a=a, A=a.capitalize(), b=b, c=c, d=d, e=e))
        lines.append(" ".join(sentences))
    lines.append("Tags: best garden, home ideas, garden home, best ideas, modern garden, cheap garden, top ideas")
    return "https://best-garden-home-ideas-2023.example/best-garden-home-ideas-design-top", lines, "spam"


def bad_product_grid(rng):
    adjectives = ["Classic", "Everyday", "Soft", "Urban", "Comfort", "Retro", "Lightweight", "Weekend"]
    materials = ["Leather", "Suede", "Canvas", "Knit", "Faux Leather"]
    types = ["Loafer", "Ankle Boot", "Trainer", "Ballet Flat", "Sandal", "Chelsea Boot", "Mule"]
    lines = ["Free delivery on orders over $40 | Easy returns", "StepRight Shoes", "Shop | Women | Men | Kids | Sale",
             "Search products", "Account | Wishlist | Cart (0)", "Home > Women > Shoes", "Women's Shoes", "248 products",
             "Sort by: Featured | Price: Low to High | Price: High to Low | Newest", "Filter: Size | Colour | Brand | Price"]
    for _ in range(18):
        name = f"{rng.choice(adjectives)} {rng.choice(materials)} {rng.choice(types)}"
        price = rng.randrange(25, 140) + rng.choice([0.0, 0.5, 0.95, 0.99])
        if rng.random() < 0.25:
            lines += [name, f"${price * 1.4:.2f} ${price:.2f}", "Sale -30%"]
        else:
            lines += [name, f"${price:.2f}"]
        lines.append(rng.choice(["Add to cart", "Quick view", "Add to cart"]))
    lines += ["Load more products", "Help | Delivery | Returns | Size guide | Contact", "\u00a9 2024 StepRight Shoes"]
    return "https://www.steprightshoes.example/women/shoes?page=1", lines, "shop"


def bad_stub(rng):
    return "https://bluefernstudio.example/", [
        "Blue Fern Studio", "Coming soon!", "We're working hard on something new. Stay tuned!", "Notify me",
        "\u00a9 2024 Blue Fern Studio",
    ], "blog"


def bad_parked(rng):
    searches = ["Garden Furniture Sale", "Cheap Flights", "Home Insurance Quotes", "Online Degree Programs",
                "Best Credit Cards", "Garden Sheds", "Car Loans", "Web Hosting"]
    return "https://gardenhomeideas.example/", [
        "gardenhomeideas.example", "This domain may be for sale!", "Buy this domain",
        "Related Searches:", *rng.sample(searches, 6), "Privacy Policy",
        "Copyright \u00a9 2024. All rights reserved. The Sponsored Listings displayed above are served automatically by a "
        "third party. Neither the service provider nor the domain owner maintain any relationship with the advertisers.",
    ], "spam"


BAD = [("seo-spam", bad_seo_spam), ("link-directory", bad_link_directory), ("lorem-ipsum", bad_lorem),
       ("login-wall", bad_login_wall), ("page-not-found", bad_404), ("casino-spam", bad_casino),
       ("gibberish", bad_gibberish), ("product-grid", bad_product_grid), ("coming-soon", bad_stub),
       ("parked-domain", bad_parked)]


# --------------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------------


def build_records(seed: int = SEED) -> list[dict]:
    """All records, ids in definition order (good, edge cases, bad), file order shuffled with Random(seed)."""
    built = []  # (key, url, text, source, quality)

    def doc_rng(key: str) -> random.Random:
        return random.Random(f"{seed}:{key}")

    for doc in GOOD:
        rng = doc_rng(doc["key"])
        kind = SITES[doc["site"]]["kind"]
        if "posts" in doc:
            url, text, source = build_forum(doc, rng)
        elif kind == "wiki":
            url, text, source = build_wiki(doc, rng)
        elif kind == "shop":
            url, text, source = build_shop(doc, rng)
        else:
            url, text, source = build_article(doc, rng)
        built.append((url, text, source))
    built.append(build_french(FRENCH, doc_rng(FRENCH["key"])))
    built.append(build_article(CHECKLIST, doc_rng(CHECKLIST["key"])))
    for key, make in BAD:
        url, lines, source = make(doc_rng(key))
        built.append((url, "\n".join(lines), source))

    records = [{"id": f"web-{i:04d}", "url": url, "text": text, "source": source}
               for i, (url, text, source) in enumerate(built, 1)]
    random.Random(seed).shuffle(records)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("web_corpus.jsonl"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    records = build_records(args.seed)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    args.out.write_bytes(data)
    n_good = len(GOOD) + 2
    print(f"wrote {len(records)} documents ({n_good} to keep, {len(BAD)} to drop), {len(data):,} bytes, to {args.out}")


if __name__ == "__main__":
    main()
