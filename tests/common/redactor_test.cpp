#include "lifeboat/common/redactor.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace lifeboat {
namespace {

TEST(Redactor, EmptyRedactorLeavesTextAlone) {
  const Redactor redactor;
  EXPECT_TRUE(redactor.empty());
  EXPECT_EQ(redactor.redact("nothing to hide"), "nothing to hide");
}

TEST(Redactor, MasksEveryOccurrenceIncludingAtStartAndEnd) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("hunter2!"));
  EXPECT_FALSE(redactor.empty());
  EXPECT_EQ(redactor.redact("hunter2!"), "[redacted]");
  EXPECT_EQ(redactor.redact("hunter2! and hunter2!"), "[redacted] and [redacted]");
  EXPECT_EQ(redactor.redact("pw=hunter2!;x"), "pw=[redacted];x");
  EXPECT_EQ(redactor.redact("hunter2 hunter2?"), "hunter2 hunter2?");
  EXPECT_EQ(redactor.redact(""), "");
}

TEST(Redactor, AdjacentOccurrencesAreMaskedSeparately) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("abcd"));
  EXPECT_EQ(redactor.redact("abcdabcd"), "[redacted][redacted]");
}

TEST(Redactor, OverlappingSecretsAreCoveredWhole) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("abcd"));
  ASSERT_TRUE(redactor.add("cdef"));
  EXPECT_EQ(redactor.redact("xabcdefx"), "x[redacted]x");
  // A chain of overlaps: abcd, cdef, then abcd again overlapping nothing.
  EXPECT_EQ(redactor.redact("abcdef-abcd"), "[redacted]-[redacted]");
}

TEST(Redactor, SelfOverlappingOccurrencesAreCoveredWhole) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("aaaa"));
  EXPECT_EQ(redactor.redact("baaaaaab"), "b[redacted]b");
}

TEST(Redactor, NestedSecretsAreCoveredByTheLongest) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("pass"));
  ASSERT_TRUE(redactor.add("my-password-1"));
  ASSERT_TRUE(redactor.add("word"));
  EXPECT_EQ(redactor.redact("[my-password-1]"), "[[redacted]]");
  EXPECT_EQ(redactor.redact("a password"), "a [redacted][redacted]");
  EXPECT_EQ(redactor.redact("my-password-2"), "my-[redacted][redacted]-2");
}

TEST(Redactor, RefusesShortValuesAndIgnoresEmptyOnes) {
  Redactor redactor;
  EXPECT_FALSE(redactor.add("a"));
  EXPECT_FALSE(redactor.add("abc"));
  EXPECT_TRUE(redactor.empty());
  EXPECT_TRUE(redactor.add(""));
  EXPECT_TRUE(redactor.empty());
  EXPECT_EQ(redactor.redact("abc a"), "abc a");
  EXPECT_TRUE(redactor.add("abcd"));
  EXPECT_EQ(redactor.redact("abc abcd"), "abc [redacted]");
}

TEST(Redactor, MatchesBytesNotCharacters) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add(std::string("\xff\x00\x80z", 4)));
  const std::string text = std::string("a\xff\x00\x80zb", 6);
  EXPECT_EQ(redactor.redact(text), "a[redacted]b");
}

constexpr std::string_view kPem =
    "-----BEGIN PRIVATE KEY-----\r\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n"
    "Bz3kYmuOq8Y2Vb0tq9hHP0qZ\r\n"
    "ab\r\n"
    "-----END PRIVATE KEY-----\r\n";

TEST(Redactor, MultiLineSecretsRedactEachLine) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add(kPem));
  EXPECT_EQ(redactor.redact(std::string("key:\n") + std::string(kPem)), "key:\n[redacted]");
  // A tool that quotes one line of the key.
  EXPECT_EQ(redactor.redact("bad base64 near 'Bz3kYmuOq8Y2Vb0tq9hHP0qZ'"),
            "bad base64 near '[redacted]'");
  // Lines shorter than the minimum are not registered on their own.
  EXPECT_EQ(redactor.redact("ab"), "ab");
  // The same key re-encoded with \n line ends.
  EXPECT_EQ(redactor.redact("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBz3kYmuOq8Y2Vb0tq9hHP0qZ\n"),
            "[redacted]\n[redacted]\n");
}

TEST(Redactor, ManySecretsOnALargeText) {
  std::mt19937 random(42);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  auto randomText = [&](std::size_t length) {
    std::string text(length, ' ');
    for (char& character : text) {
      character = alphabet[random() % alphabet.size()];
    }
    return text;
  };
  Redactor redactor;
  std::vector<std::string> secrets;
  for (int i = 0; i < 1000; ++i) {
    // '#' never occurs in the filler, so a secret cannot appear by chance.
    secrets.push_back("#" + randomText(8 + static_cast<std::size_t>(i % 24)));
    ASSERT_TRUE(redactor.add(secrets.back()));
  }
  std::string text;
  std::string expected;
  while (text.size() < 1024 * 1024) {
    const std::string filler = randomText(200);
    const std::string& secret = secrets[random() % secrets.size()];
    text += filler + secret;
    expected += filler + "[redacted]";
  }
  EXPECT_EQ(redactor.redact(text), expected);
}

TEST(Redactor, ConcurrentRedactCallsAgree) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("s3cr3t-value"));
  ASSERT_TRUE(redactor.add("other-secret"));
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&redactor, &results, i] {
      for (int round = 0; round < 100; ++round) {
        results[i] = redactor.redact("a s3cr3t-value b other-secret c");
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const std::string& result : results) {
    EXPECT_EQ(result, "a [redacted] b [redacted] c");
  }
}

TEST(Redactor, CopiesAreIndependentAfterAdd) {
  Redactor first;
  ASSERT_TRUE(first.add("alpha-secret"));
  EXPECT_EQ(first.redact("alpha-secret"), "[redacted]");  // builds the shared cache
  Redactor second = first;
  ASSERT_TRUE(second.add("beta-secret"));
  EXPECT_EQ(first.redact("alpha-secret beta-secret"), "[redacted] beta-secret");
  EXPECT_EQ(second.redact("alpha-secret beta-secret"), "[redacted] [redacted]");
}

std::string streamInChunks(const Redactor& redactor, std::string_view text,
                           const std::vector<std::size_t>& cuts) {
  ChunkRedactor stream(redactor);
  std::string out;
  std::size_t previous = 0;
  for (const std::size_t cut : cuts) {
    out += stream.push(text.substr(previous, cut - previous));
    previous = cut;
  }
  out += stream.push(text.substr(previous));
  out += stream.finish();
  return out;
}

TEST(ChunkRedactor, SecretSplitAtEveryPosition) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("correct-horse"));
  ASSERT_TRUE(redactor.add("horse-battery"));
  const std::string text = "log: correct-horse-battery staple; correct-horse!";
  const std::string expected = redactor.redact(text);
  EXPECT_EQ(expected, "log: [redacted] staple; [redacted]!");
  for (std::size_t first = 0; first <= text.size(); ++first) {
    EXPECT_EQ(streamInChunks(redactor, text, {first}), expected) << "split at " << first;
    for (std::size_t second = first; second <= text.size(); ++second) {
      ASSERT_EQ(streamInChunks(redactor, text, {first, second}), expected)
          << "split at " << first << " and " << second;
    }
  }
}

TEST(ChunkRedactor, ByteAtATime) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("tok-123456"));
  const std::string text = "tok-123456 tok-12345 xtok-123456tok-123456";
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < text.size(); ++i) {
    cuts.push_back(i);
  }
  EXPECT_EQ(streamInChunks(redactor, text, cuts), "[redacted] tok-12345 x[redacted][redacted]");
}

TEST(ChunkRedactor, EmitsEarlyAndHoldsBackOnlyAPossibleSecretPrefix) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("abcdef"));
  ChunkRedactor stream(redactor);
  // Everything but the last 5 bytes is safe at once.
  EXPECT_EQ(stream.push("0123456789"), "01234");
  EXPECT_EQ(stream.push("abc"), "567");
  EXPECT_EQ(stream.push("def tail"), "89[redacted]");
  EXPECT_EQ(stream.finish(), " tail");
}

TEST(ChunkRedactor, RandomSplitsAgreeWithWholeTextRedaction) {
  // A two-letter alphabet makes overlapping and nested occurrences common.
  std::mt19937 random(7);
  auto randomText = [&](std::size_t length) {
    std::string text(length, 'x');
    for (char& character : text) {
      character = random() % 2 == 0 ? 'x' : 'y';
    }
    return text;
  };
  for (int round = 0; round < 300; ++round) {
    Redactor redactor;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(redactor.add(randomText(4 + random() % 5)));
    }
    const std::string text = randomText(random() % 120);
    std::vector<std::size_t> cuts;
    for (std::size_t position = 0; position < text.size(); position += 1 + random() % 9) {
      cuts.push_back(position);
    }
    ASSERT_EQ(streamInChunks(redactor, text, cuts), redactor.redact(text)) << text;
  }
}

TEST(ChunkRedactor, WithoutSecretsPassesThrough) {
  const Redactor redactor;
  ChunkRedactor stream(redactor);
  EXPECT_EQ(stream.push("abc"), "abc");
  EXPECT_EQ(stream.finish(), "");
}

TEST(ChunkRedactor, EndlessOverlappingRunIsMaskedWithoutLeaking) {
  Redactor redactor;
  ASSERT_TRUE(redactor.add("zzzz"));
  ChunkRedactor stream(redactor);
  std::string out;
  const std::string chunk(8192, 'z');
  for (int i = 0; i < 40; ++i) {
    out += stream.push(chunk);
  }
  out += stream.push("zzb");
  out += stream.finish();
  EXPECT_EQ(out.find('z'), std::string::npos) << out.substr(0, 100);
  EXPECT_TRUE(out.ends_with("[redacted]b"));
  EXPECT_GT(out.size(), std::string("[redacted]").size() * 2);  // the run was cut in parts
  EXPECT_LT(out.size(), 1000U);
}

}  // namespace
}  // namespace lifeboat
