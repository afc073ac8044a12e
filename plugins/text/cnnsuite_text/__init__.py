"""cnnsuite plugin `text`: sentence classification with Kim's CNN over WordPiece tokens.

This module is the plugin's manifest and imports nothing heavy; the code that needs
TensorFlow and Keras lives in `cnnsuite_text.plugin` and is imported only when used.
"""

from cnnsuite import Manifest

__all__ = ["manifest"]

manifest = Manifest(
    name="text",
    summary="Sentence classification (Kim's CNN) and query-document retrieval (CLSM) over "
            "a WordPiece vocabulary learned from the data (tensorflow-text).",
    plugin="cnnsuite_text.plugin:TextPlugin",
    default_config={
        "task": "classify",
        "data": {"source": "generated", "n": 3000, "limit": 0, "files": "*", "format": "auto",
                 "encoding": "auto", "fallback_encoding": "cp1252", "text_column": "auto",
                 "label_column": "auto"},
        "features": {"tokenizer": "auto", "vocab_size": 16000, "min_count": 2,
                     "word_vocab_size": 0, "word_min_count": 1,
                     "case_fold": True, "nfkc": True, "max_tokens": 100, "vectors": ""},
        "model": {"embedding_dim": 300, "widths": [3, 4, 5], "filters": 100, "dropout": 0.5,
                  "max_norm": 3.0, "optimizer": "adam", "learning_rate": 0.001,
                  "static": False, "wide": True, "word_dropout": 0.0,
                  "output_init": "glorot", "unknown": "random",
                  "crop": 0.0, "crop_min": 0.5,
                  "subword": 0, "subword_n": [3, 5], "subword_grams": 24, "ensemble": 1},
        "retrieval": {"n_queries": 400, "query_column": "auto", "document_column": "auto",
                      "relevance_column": "auto", "embedding_dim": 64, "conv_maps": 300,
                      "semantic_dim": 128, "gamma": 10.0, "learning_rate": 0.002,
                      "ks": [1, 5, 10]},
        "parse": {"format": "auto", "embedding_dim": 128, "embedding_dropout": 0.1,
                  "filters": 256, "kernel_size": 3, "dilations": [1, 2, 4, 1, 2, 4],
                  "dropout": 0.3, "summary_dim": 64, "learning_rate": 0.001,
                  "slot_weight": 1.0, "unk_rate": 0.1, "crf": False, "decode": "viterbi",
                  "max_words": 64, "max_pieces_per_word": 6,
                  "ensemble": 2, "lr_decay": "cosine",
                  "intent_head": "softmax", "intent_balance": 0.0,
                  "token_intent": 0.0, "intent_filters": 0, "intent_smoothing": 0.0,
                  "intent_weight": 1.0, "char_filters": 0, "intent_attention": 0,
                  "attention_detach": False, "stem_dim": 0},
        "split": {"val": 0.1, "test": 0.2, "cv_folds": 0, "fold": 0},
        "train": {"epochs": 12, "batch_size": 50, "patience": 3},
    },
    quick_config={"data": {"n": 1200, "limit": 1200}, "model": {"learning_rate": 0.003},
                  "retrieval": {"n_queries": 250},
                  "parse": {"embedding_dim": 64, "filters": 64, "dilations": [1, 2, 4],
                            "ensemble": 1},
                  "train": {"epochs": 6, "patience": 3}},
    config_help={
        "task": "'classify' (sentences to classes, Kim's CNN) or 'retrieve' (queries to "
                "documents, CLSM twin encoder) or 'parse' (utterances to semantic frames: intent "
                "and IOB slots, dilated conv encoder; see docs/plugins/text-parsing.md)",
        "data.source": "offline set when --data is not given: 'generated' (review sentences "
                       "made by cnnsuite_text.data.generated_reviews, negation included)",
        "data.n": "number of generated sentences",
        "data.limit": "use at most this many sentences, stratified (0: all)",
        "data.files": "glob of the files to read when --data is a folder (e.g. "
                      "'rt-polarity.*', 'stsa.binary.*', 'TREC.*')",
        "data.format": "'auto', 'classes' (one file per class), 'label-first' "
                       "('label sentence' lines) or 'table' (CSV/TSV/JSONL)",
        "data.encoding": "'auto' (UTF-8, then data.fallback_encoding, line by line) or a "
                         "Python codec name",
        "data.fallback_encoding": "codec tried when a line is not UTF-8 (cp1252 covers MR)",
        "data.text_column": "text column of CSV/TSV/JSONL ('auto': text, sentence, ...)",
        "data.label_column": "label column of CSV/TSV/JSONL ('auto': label, class, ...)",
        "features.tokenizer": "'auto' (words to classify, wordpiece to retrieve), 'words' "
                              "(Kim's clean_str word split, the training words, unseen ones "
                              "[UNK]), 'wordpiece' (learned here) or 'sentencepiece' (a "
                              "unigram model trained with the sentencepiece package); all "
                              "applied by tensorflow-text tokenizers",
        "features.vocab_size": "WordPiece / SentencePiece vocabulary size, learned from the "
                               "training split",
        "features.min_count": "a WordPiece word or piece needs this many occurrences",
        "features.word_vocab_size": "'words' tokenizer: keep at most this many words, most "
                                    "frequent first (0: all, as Kim)",
        "features.word_min_count": "'words' tokenizer: a word needs this many occurrences in "
                                   "the training split (Kim: 1)",
        "features.case_fold": "NFKC case folding (tensorflow-text case_fold_utf8)",
        "features.nfkc": "Unicode NFKC normalisation (implied by case_fold)",
        "features.max_tokens": "cut sentences to this many word pieces",
        "features.vectors": "word2vec/GloVe text file of pretrained vectors ('': random)",
        "model.embedding_dim": "size of the random word vectors (Kim: 300)",
        "model.widths": "convolution widths in tokens (Kim: 3, 4, 5)",
        "model.filters": "feature maps per width (Kim: 100)",
        "model.dropout": "dropout on the pooled features (Kim: 0.5)",
        "model.max_norm": "max L2 norm of each class's weight vector (Kim: 3; 0: off)",
        "model.optimizer": "'adam' or 'adadelta' (Kim's; use learning_rate 1.0 with it)",
        "model.learning_rate": "learning rate of the optimiser",
        "model.static": "keep pretrained vectors fixed (CNN-static) instead of fine-tuning",
        "model.wide": "pad width - 1 zeros before each sentence too (Kim's padding), so "
                      "windows hang over its start",
        "model.word_dropout": "share of the known words of each training sentence replaced "
                              "by [UNK] (word dropout), so the unknown-word vector is "
                              "trained (0: off, as Kim)",
        "model.output_init": "initial softmax weights: 'glorot' (Keras' default) or 'zeros' "
                             "(Kim's code starts its logistic regression layer at zero)",
        "model.unknown": "starting vector of [UNK] (words never seen in training): 'random' "
                         "(like every word, as Kim's unseen words) or 'zeros' (adds nothing "
                         "to a window)",
        "model.crop": "share of the training sentences replaced, each epoch, by a random "
                      "run of their words with the sentence's label (0: off, as Kim)",
        "model.crop_min": "shortest run model.crop keeps, as a share of the sentence",
        "model.subword": "fastText's subword vectors with Kim's words: each word's vector "
                         "plus the mean vector of its character n-grams, hashed into this "
                         "many buckets, so unseen words get a vector too (0: off, as Kim)",
        "model.subword_n": "shortest and longest character n-gram of model.subword (of "
                           "'<word>', fastText's boundary marks)",
        "model.subword_grams": "model.subword: n-grams kept per word, the shortest first",
        "model.ensemble": "number of Kim CNNs in one model (1: one network, as Kim): each "
                          "with its own word (and subword) vectors and its own seeded "
                          "initialisation, each trained by its own loss on the same batches; "
                          "their class probabilities are averaged. N times the cost; not "
                          "Kim's single-network protocol",
        "retrieval.n_queries": "generated queries when --data is not given (3 documents each)",
        "retrieval.query_column": "query column of the pairs file ('auto': query, question)",
        "retrieval.document_column": "document column ('auto': document, doc, passage, text)",
        "retrieval.relevance_column": "graded relevance column ('auto'; missing means 1)",
        "retrieval.embedding_dim": "word-piece vector size of the encoder",
        "retrieval.conv_maps": "maps of the width-3 convolution (CLSM: 300)",
        "retrieval.semantic_dim": "size of the semantic vector compared by cosine (CLSM: 128)",
        "retrieval.gamma": "softmax smoothing factor on the cosines (CLSM's gamma)",
        "retrieval.learning_rate": "Adam learning rate of the retrieval model",
        "retrieval.ks": "cut-offs k of NDCG@k and recall@k",
        "parse.format": "frame files: 'auto' (by suffix: .jsonl/.json/.ndjson JSON Lines, "
                        "else ATIS), 'atis' or 'jsonl'",
        "parse.embedding_dim": "size of the word-piece vectors of the frame parser",
        "parse.embedding_dropout": "share of embedding channels dropped (spatial dropout)",
        "parse.filters": "channels of each convolution of the encoder",
        "parse.kernel_size": "width of the encoder's convolutions, in pieces",
        "parse.dilations": "dilation of each residual convolution block (the receptive "
                           "field grows with their sum)",
        "parse.dropout": "dropout inside the encoder and before both heads",
        "parse.summary_dim": "size of the pooled sentence summary each word's slot head reads",
        "parse.learning_rate": "Adam learning rate of the frame parser",
        "parse.slot_weight": "weight of the slot loss against the intent loss",
        "parse.unk_rate": "share of training pieces replaced by [UNK] (word dropout)",
        "parse.crf": "train the slot head as a linear-chain CRF (learned transitions, "
                     "decoded with them) instead of per-word softmax",
        "parse.decode": "'viterbi' (IOB-constrained) or 'greedy' (per-word argmax)",
        "parse.ensemble": "parsers trained side by side on the shared piece embedding, each "
                          "by its own loss; their intent and slot probabilities are averaged",
        "parse.lr_decay": "'cosine' (learning rate falls to 2% over train.epochs) or 'none'",
        "parse.intent_head": "'softmax' (one class per intent label, multi-intent labels like "
                             "a#b whole) or 'multilabel' (a sigmoid per atomic intent, trained "
                             "on the labels split on '#', decoded to the most probable training "
                             "label)",
        "parse.intent_balance": "weigh the intent loss by class: (count + 1) ** -VALUE, scaled "
                                "to a mean weight of 1 (0: no weights; 0.5: inverse square root "
                                "of the counts)",
        "parse.token_intent": "weight of a per-word intent loss: every word also predicts the "
                              "utterance's intent and the intent is the mean of the utterance "
                              "head and the words' vote (0: off)",
        "parse.intent_filters": "maps per width (1-5) of the intent's own sentence convolutions "
                                "(Kim's CNN) on the piece vectors, beside the slot encoder's "
                                "pooling; 0: off",
        "parse.intent_smoothing": "label smoothing of the softmax intent loss (0: off; not with "
                                  "intent_balance or the multi-label head)",
        "parse.intent_weight": "weight of the intent loss against the slot loss",
        "parse.char_filters": "maps of the per-word character convolutions (width 3 over each "
                              "word's first 20 characters) concatenated to every piece vector; "
                              "0: off",
        "parse.intent_attention": "heads of attention pooling with learnt queries (Lin et al. "
                                  "2017) that the intent head reads beside the max+mean "
                                  "pooling; 0: off",
        "parse.attention_detach": "the intent's attention pooling reads the encoding without "
                                  "training it (no gradient from the attention into the "
                                  "encoder)",
        "parse.stem_dim": "size of the embedding of each word's Snowball stem (English, "
                          "snowballstemmer) concatenated to its pieces' vectors; 0: off",
        "parse.max_words": "utterances with more words are rejected",
        "parse.max_pieces_per_word": "word pieces kept per word",
        "split.val": "share of the data held out for validation (early stopping) "
                     "where there is no dev file; 0: none, train all train.epochs (to retrain "
                     "on train + validation for an epoch count chosen on validation)",
        "split.cv_folds": "k for k-fold cross-validation (0: the plain seeded split); "
                          "run each fold with split.fold",
        "split.fold": "which fold is the test split when split.cv_folds is set",
    },
    data_formats=(
        "one sentence per line, one file per class (MR: rt-polarity.pos / .neg)",
        "'label sentence' lines (SST: stsa.binary.*, TREC: TREC.*.all)",
        "CSV / TSV with a header, JSON Lines, with text and label columns",
        "given splits: files named *train*, *dev*/*val*, *test* (a folder or a prefix path)",
        "any encoding: UTF-8, else data.fallback_encoding (cp1252) line by line",
        "retrieval (task=retrieve): CSV / TSV / JSONL of query, document[, relevance] pairs",
        "parsing (task=parse): ATIS 'BOS words EOS<TAB>tags intent' (*.iob), JSON Lines "
        "{text, intent, slots: [{start, end, label}]}; offline: generated air-travel requests",
        "prediction: sentences as arguments, text files (one a line), or '-' for stdin; "
        "retrieval: the query, then the documents (strings or files)",
    ),
    metrics=("accuracy (headline)", "macro F1", "per-class precision, recall, F1",
             "confusion matrix", "retrieval: MRR (headline), NDCG@k, recall@k",
             "parsing: conlleval slot F1 (headline), intent accuracy, frame accuracy"),
)
