/**
 * Very common English words (lowercase, apostrophes removed: "dont"), which vocabulary correction never replaces:
 * a caller who said "young" or "want" meant it, however close it is to a product name. Hand-picked from the top of
 * general English word-frequency lists (function words, pronouns, auxiliaries, everyday verbs, nouns and adjectives,
 * numbers and phone-call words), a few hundred on purpose: a stoplist, not a dictionary.
 */
export const COMMON_ENGLISH_WORDS: ReadonlySet<string> = new Set(
  `
a about above after again against ago all almost also always am an and another any anybody anyone anything are
around as ask asked at away back bad be because been before being below best better between big both bring but buy
by call called calling came can cannot cant card case change check come coming could couldnt day days did didnt do
does doesnt doing done dont down during each early easy else email end enough even evening ever every everything
fine first five for found four free friday from full get gets getting give go goes going gone good got great had
half has hasnt have havent having he hear heard hello help her here hers hey hi him his hold home hour hours how
however i id if ill im in into is isnt it its ive just keep kind know last late later least left less let like
little long look looking lot love made make man many may maybe me mean men might mine minute minutes money month
monday more morning most much must my myself name need needs never new next nice night nine no none not nothing now
number of off ok okay old on once one only open or order other our ours out over own paid part pay people person
phone place please plus put quite rather really right said same saturday say says see seven she should shouldnt
since six small so some someone something sorry still stop such sunday sure take talk team tell ten than thank
thanks that thats the their them then there theres these they theyre thing things think this those though three
through thursday time to today told too took try trying tuesday two under until up us use used very wait want wanted
wants was wasnt way we wednesday week weeks well went were werent what whats when where which while who whole why
will with without woman women wont word work working would wouldnt wrong yeah year years yes yesterday yet you youd
youll young your youre yours yourself youve
`
    .split(/\s+/u)
    .filter(Boolean),
);
